// Runs a state machine definition with aws-local-stepfunctions, every Task state answered by an
// HTTP endpoint (the test JVM) instead of Lambda:
//   node --require ./polyfill.cjs run-drain.mjs <definition.asl.json> <endpoint-url> <input-json>
// The definition's ${LifecycleFunctionArn} is substituted as DefinitionSubstitutions would.
// Each Task POSTs {"state": <state name>, "payload": <the lambda:invoke Payload>} to the endpoint,
// which answers {"payload": <function result>} or {"errorType": ..., "errorMessage": ...}; an error
// becomes a task error named errorType, as a Lambda function error is. Waits and retry intervals are
// shortened (WAIT_MS, RETRY_MS). Prints one JSON line: {status, output | error+cause, states}.
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const [definitionPath, endpoint, inputText] = process.argv.slice(2);
const waitMs = Number(process.env.WAIT_MS ?? 50);
const retryMs = Number(process.env.RETRY_MS ?? 10);
const functionArn = 'arn:aws:lambda:us-east-1:123456789012:function:runnerscale-lifecycle';
const definition = JSON.parse(readFileSync(definitionPath, 'utf8').replaceAll('${LifecycleFunctionArn}', functionArn));

const handlers = {};
const retryIntervals = {};
const waits = {};
for (const [name, state] of Object.entries(definition.States)) {
  if (state.Type === 'Wait') waits[name] = waitMs;
  if (state.Type !== 'Task') continue;
  retryIntervals[name] = retryMs;
  handlers[name] = async (input) => {
    if (input.FunctionName !== functionArn) throw new Error(`${name}: FunctionName not substituted: ${input.FunctionName}`);
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: name, payload: input.Payload }),
    });
    const answer = await response.json();
    if (answer.errorType) {
      const error = new Error(answer.errorMessage ?? answer.errorType);
      error.name = answer.errorType;
      throw error;
    }
    return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: answer.payload };
  };
}

const machine = new StateMachine(definition);
const execution = machine.run(JSON.parse(inputText), {
  overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retryIntervals },
});
const states = [];
const collect = (async () => {
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') states.push(event.state.name);
    if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed' || event.type === 'ExecutionTerminated') break;
  }
})();
let report;
try {
  const output = await execution.result;
  report = { status: 'SUCCEEDED', output };
} catch (error) {
  report = { status: 'FAILED', error: error.cause?.name ?? error.name, cause: error.cause?.message ?? error.message };
}
await collect;
report.states = states;
console.log(JSON.stringify(report));
