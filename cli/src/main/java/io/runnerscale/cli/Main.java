package io.runnerscale.cli;

import io.runnerscale.pool.ConfigException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** {@code runnerscale serve | simulate | import-config | bench-webhook | bench-startup}. */
public final class Main {
    static final String USAGE = """
            runnerscale: event-driven autoscaling of GitLab CI runners on AWS

            usage: runnerscale <command> [options]
              serve          run the webhook and the scaler locally (embedded DynamoDB Local, simulated fleet)
              simulate       replay a CI workload: wait time and cost under runnerscale and the baselines
              import-config  convert a GitLab Runner config.toml into a runnerscale pools file
              bench-webhook  measure webhook latency in-process against DynamoDB Local
              bench-startup  measure each function's Lambda start-up in fresh JVMs (needs make sam-build)

            runnerscale <command> --help shows a command's options.
            """;

    private Main() {
    }

    /** A command that cannot go on for a reason the user can act on: printed as its message alone, exit code 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != 0 || args.length == 0 || !args[0].equals("serve")) {
            System.exit(code);
        }
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            out.print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        String command = argv[0];
        List<String> rest = Arrays.asList(argv).subList(1, argv.length);
        String usage = switch (command) {
            case "serve" -> ServeCommand.USAGE;
            case "simulate" -> SimulateCommand.USAGE;
            case "import-config" -> ImportConfigCommand.USAGE;
            case "bench-webhook" -> BenchWebhookCommand.USAGE;
            case "bench-startup" -> BenchStartupCommand.USAGE;
            default -> null;
        };
        if (usage == null) {
            err.println("error: unknown command '" + command + "'\n");
            err.print(USAGE);
            return 2;
        }
        if (rest.contains("--help") || rest.contains("-h")) {
            out.print(usage);
            return 0;
        }
        try {
            return switch (command) {
                case "serve" -> ServeCommand.run(rest, out, err);
                case "simulate" -> {
                    // thousands of decisions a second: only warnings belong on the terminal
                    Configurator.setLevel("io.runnerscale", Level.WARN);
                    // a warning per simulated Fargate Spot interruption: the drains table counts them instead
                    Configurator.setLevel("io.runnerscale.lifecycle.TaskLifecycle", Level.ERROR);
                    yield SimulateCommand.run(rest, out, err);
                }
                case "bench-startup" -> BenchStartupCommand.run(rest, out, err);
                case "bench-webhook" -> {
                    // a decision per timed job: only warnings belong on the terminal
                    Configurator.setLevel("io.runnerscale", Level.WARN);
                    yield BenchWebhookCommand.run(rest, out, err);
                }
                default -> ImportConfigCommand.run(rest, out, err);
            };
        } catch (Args.UsageException e) {
            err.println("error: " + e.getMessage() + "\n");
            err.print(usage);
            return 2;
        } catch (ConfigException | Failure e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("error: " + e);
            return 1;
        }
    }
}
