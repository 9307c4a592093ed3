package io.runnerscale.simulate;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.runnerscale.job.JobKey;
import io.runnerscale.webhook.Timestamps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads job history in the shape of GitLab's {@code GET /projects/:id/jobs}: a JSON array (one
 * page or several concatenated) or JSON Lines. A job asked for a runner at
 * {@code started_at − queued_duration}.
 *
 * <p>Bad input costs only the record it is in, and every problem names where it is
 * ({@code trace.jsonl:17: ...}, or line:column in an array):
 * <ul>
 *   <li>jobs that never started ({@code started_at} null or missing) are counted, not reported:
 *       they are the normal canceled, skipped and manual jobs of any history;</li>
 *   <li>a JSON Lines line that is not JSON, not an object, or longer than {@link #MAX_LINE_CHARS}
 *       is skipped; in an array, a value that is not an object is skipped, and a syntax error
 *       stops the read with its line and column (the rest of an array cannot be trusted);</li>
 *   <li>a job is skipped when its {@code id} is missing or not a GitLab id
 *       ({@link JobKey#isValidId}), when {@code duration} or {@code queued_duration} is present but
 *       not a number of seconds from 0 to {@link #MAX_JOB_DURATION}, when a timestamp does not
 *       parse, when {@code tag_list} is not a list of strings, or when it asked for a runner before
 *       {@link #EARLIEST} or more than {@link #MAX_FUTURE} after now;</li>
 *   <li>a job id seen again is counted once: the first record of it that could be replayed is
 *       kept (pages fetched while jobs are added overlap, and their records are the same job);</li>
 *   <li>when the jobs span more than {@link #MAX_SPAN}, the {@code MAX_SPAN} window holding the
 *       most of them is kept and the jobs outside it are skipped, so one stray timestamp cannot
 *       make the simulator replay years of empty time.</li>
 * </ul>
 * At most {@link #MAX_PROBLEMS} problems are kept word for word, the rest are counted; input is
 * shown abbreviated and without control characters.
 */
public final class TraceReader {
    public static final int MAX_PROBLEMS = 10;
    /** GitLab CI did not exist before this; an earlier time is a zero or garbage timestamp. */
    public static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");
    /** Clocks disagree a little; history from later than this is not history. */
    public static final Duration MAX_FUTURE = Duration.ofDays(1);
    /** GitLab's own job timeout cannot exceed a month; more is a unit mistake or garbage. */
    public static final Duration MAX_JOB_DURATION = Duration.ofDays(30);
    /** A year of history; the simulator walks every minute of it. */
    public static final Duration MAX_SPAN = Duration.ofDays(366);
    /** A GitLab job object is a few kilobytes; a longer line is not one. */
    public static final int MAX_LINE_CHARS = 1 << 20;
    private static final int SHOWN_TEXT = 60;
    private static final int SHOWN_VALUE = 40;
    private static final int SHOWN_MESSAGE = 100;
    private static final Pattern DECIMAL = Pattern.compile("[+-]?[0-9]{1,20}(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?");

    private final ObjectMapper json = new ObjectMapper();
    /** One line is one value: {@code {...}{...}} or {@code {...} junk} on a line is not JSON Lines. */
    private final ObjectReader oneValue = json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final Clock clock;

    public TraceReader() {
        this(Clock.systemUTC());
    }

    /** @param clock what "now" is for the future-timestamp rule */
    public TraceReader(Clock clock) {
        this.clock = clock;
    }

    /**
     * What a trace held.
     *
     * @param jobs         the jobs to replay, by request time then id
     * @param records      job records read (objects, and lines or values that should have been one)
     * @param notStarted   records of jobs that never started
     * @param duplicates   records of a job id already kept
     * @param problems     the first {@link #MAX_PROBLEMS} problems, word for word (a summary of duplicates first)
     * @param moreProblems problems beyond those
     */
    public record Trace(List<TraceJob> jobs, int records, int notStarted, int duplicates, List<String> problems,
                        int moreProblems) {
        public Trace {
            jobs = List.copyOf(jobs);
            problems = List.copyOf(problems);
        }

        /** Records that did not become a job, for any reason. */
        public int skipped() {
            return records - jobs.size();
        }
    }

    public Trace read(Path file) throws IOException {
        // bytes that are not UTF-8 become U+FFFD: a stray byte in a job name must not end the run
        try (Reader reader = new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8)) {
            return read(new BufferedReader(reader), file.toString());
        }
    }

    public Trace read(BufferedReader reader, String name) throws IOException {
        Collector collector = new Collector(name, clock.instant());
        if (firstSignificantChar(reader) == '[') {
            readArray(reader, collector);
        } else {
            readLines(reader, collector);
        }
        return collector.finish();
    }

    /** The first character that is not white space (or -1), leaving the reader where it was, past a byte-order mark. */
    private static int firstSignificantChar(BufferedReader reader) throws IOException {
        reader.mark(1);
        if (reader.read() != '\uFEFF') {
            reader.reset();
        }
        int limit = 64 * 1024;
        reader.mark(limit);
        try {
            for (int i = 0; i < limit; i++) {
                int c = reader.read();
                if (c < 0 || !Character.isWhitespace(c)) {
                    return c;
                }
            }
            return ' ';
        } finally {
            reader.reset();
        }
    }

    /** A JSON array, or several back to back: values that are not objects are skipped, a syntax error ends the read. */
    private void readArray(Reader reader, Collector collector) throws IOException {
        try (JsonParser parser = json.getFactory().createParser(reader)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.START_ARRAY || token == JsonToken.END_ARRAY) {
                    continue; // pages of an array, or several arrays back to back
                }
                JsonLocation at = parser.currentTokenLocation();
                String where = collector.name + ":" + at.getLineNr() + ":" + at.getColumnNr();
                if (token == JsonToken.START_OBJECT) {
                    collector.record(json.readTree(parser), where);
                } else {
                    collector.bad(where, "expected a job object, found " + describe(token));
                    parser.skipChildren();
                }
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? collector.name : collector.name + ":" + at.getLineNr() + ":" + at.getColumnNr();
            throw new IOException(where + ": not JSON (" + shown(jacksonProblem(e), SHOWN_MESSAGE)
                    + "); a trace is a JSON array of GitLab jobs or JSON Lines, one job per line", e);
        }
    }

    /** JSON Lines: each line is read on its own, so a bad line costs only itself. */
    private void readLines(BufferedReader reader, Collector collector) throws IOException {
        Lines lines = new Lines(reader);
        String line;
        while ((line = lines.next()) != null) {
            String where = collector.name + ":" + lines.number;
            if (lines.tooLong) {
                collector.bad(where, "longer than " + MAX_LINE_CHARS + " characters, not a job: " + shown(line, SHOWN_TEXT));
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = oneValue.readTree(line);
            } catch (JsonProcessingException e) {
                collector.notJson(where, "not JSON (" + shown(jacksonProblem(e), SHOWN_MESSAGE) + "): "
                        + shown(line, SHOWN_TEXT));
                continue;
            }
            if (node.isObject()) {
                collector.record(node, where);
            } else if (node.isArray()) { // a page of the jobs API on one line
                for (JsonNode element : node) {
                    if (element.isObject()) {
                        collector.record(element, where);
                    } else {
                        collector.bad(where, "expected a job object, found " + describe(element));
                    }
                }
            } else {
                collector.bad(where, "expected a job object, found " + describe(node));
            }
        }
        if (collector.records > 0 && collector.records == collector.notJson) {
            throw new IOException(collector.name + ": no line is JSON; a trace is a JSON array of GitLab jobs or "
                    + "JSON Lines, one job per line (first problem: " + collector.problems.getFirst() + ")");
        }
    }

    /** Lines of at most {@link #MAX_LINE_CHARS} characters; the rest of a longer line is read past, not kept. */
    private static final class Lines {
        private final Reader in;
        private final char[] buffer = new char[8192];
        private int position;
        private int length;
        int number;
        boolean tooLong;

        Lines(Reader in) {
            this.in = in;
        }

        String next() throws IOException {
            StringBuilder line = new StringBuilder();
            tooLong = false;
            boolean any = false;
            while (true) {
                if (position == length) {
                    length = Math.max(0, in.read(buffer));
                    position = 0;
                    if (length == 0) {
                        if (!any) {
                            return null;
                        }
                        break;
                    }
                }
                any = true;
                char c = buffer[position++];
                if (c == '\n') {
                    break;
                }
                if (line.length() < MAX_LINE_CHARS) {
                    line.append(c);
                } else {
                    tooLong = true;
                }
            }
            number++;
            int end = line.length();
            if (end > 0 && line.charAt(end - 1) == '\r') {
                line.setLength(end - 1);
            }
            return line.toString();
        }
    }

    /** Jobs and problems as they are read, then the whole-trace rules. */
    private final class Collector {
        final String name;
        final Instant latest;
        final List<Located> jobs = new ArrayList<>();
        final Set<Long> ids = new HashSet<>();
        final List<String> problems = new ArrayList<>();
        int problemCount;
        int records;
        int notJson;
        int notStarted;
        int duplicates;
        String firstDuplicate;

        Collector(String name, Instant now) {
            this.name = name;
            this.latest = now.plus(MAX_FUTURE);
        }

        void bad(String where, String problem) {
            records++;
            problem(where + ": " + problem);
        }

        void notJson(String where, String problem) {
            notJson++;
            bad(where, problem);
        }

        void problem(String text) {
            problemCount++;
            if (problems.size() < MAX_PROBLEMS) {
                problems.add(text);
            }
        }

        void record(JsonNode node, String where) {
            records++;
            long id;
            try {
                id = id(node);
            } catch (IllegalArgumentException e) {
                problem(where + ": " + e.getMessage());
                return;
            }
            TraceJob job;
            try {
                job = job(id, node, latest);
            } catch (IllegalArgumentException e) {
                problem(where + ": job " + id + ": " + e.getMessage());
                return;
            }
            if (job == null) {
                notStarted++;
            } else if (!ids.add(id)) {
                duplicates++;
                if (firstDuplicate == null) {
                    firstDuplicate = "job " + id + " again at " + where;
                }
            } else {
                jobs.add(new Located(job, where));
            }
        }

        Trace finish() {
            jobs.sort(Comparator.comparing((Located l) -> l.job.requestedAt()).thenComparingLong(l -> l.job.id()));
            List<Located> kept = withinSpan(jobs);
            List<String> shown = new ArrayList<>(problems);
            if (duplicates > 0) {
                shown.addFirst(name + ": " + duplicates + " duplicate job id record(s), each job counted once "
                        + "(its first record that could be replayed is kept; " + firstDuplicate + ")");
            }
            return new Trace(kept.stream().map(Located::job).toList(), records, notStarted, duplicates, shown,
                    problemCount - problems.size());
        }

        /** The jobs in the {@link #MAX_SPAN} window that holds the most of them; the others are reported. */
        private List<Located> withinSpan(List<Located> sorted) {
            if (sorted.isEmpty() || !isLonger(sorted.getFirst(), sorted.getLast())) {
                return sorted;
            }
            int bestFrom = 0;
            int bestTo = 0; // exclusive
            int from = 0;
            for (int to = 0; to < sorted.size(); to++) {
                while (isLonger(sorted.get(from), sorted.get(to))) {
                    from++;
                }
                if (to + 1 - from > bestTo - bestFrom) {
                    bestFrom = from;
                    bestTo = to + 1;
                }
            }
            String window = sorted.get(bestFrom).job.requestedAt() + " to " + sorted.get(bestTo - 1).job.requestedAt();
            for (int i = 0; i < sorted.size(); i++) {
                if (i < bestFrom || i >= bestTo) {
                    Located outlier = sorted.get(i);
                    problem(outlier.where + ": job " + outlier.job.id() + ": requested at " + outlier.job.requestedAt()
                            + ", outside the " + MAX_SPAN.toDays() + " days that hold most of the trace (" + window + ")");
                }
            }
            return sorted.subList(bestFrom, bestTo);
        }

        private static boolean isLonger(Located first, Located last) {
            return Duration.between(first.job.requestedAt(), last.job.requestedAt()).compareTo(MAX_SPAN) > 0;
        }
    }

    private record Located(TraceJob job, String where) {
    }

    /** The job's id by {@link JobKey#isValidId}; GitLab writes it as a number, some exports as digits in a string. */
    private static long id(JsonNode node) {
        if (!node.has("id") && !node.has("started_at") && !node.has("status")) {
            List<String> keys = new ArrayList<>();
            Iterator<String> names = node.fieldNames();
            while (names.hasNext() && keys.size() < 5) {
                keys.add(names.next());
            }
            throw new IllegalArgumentException("not a GitLab job (no id, started_at or status; keys: "
                    + shown(String.join(", ", keys), SHOWN_VALUE) + (node.size() > keys.size() ? ", ..." : "") + ")");
        }
        JsonNode id = node.get("id");
        if (id == null || id.isNull()) {
            throw new IllegalArgumentException("job without an id");
        }
        Optional<Long> valid = Optional.empty();
        if (id.isIntegralNumber() && id.canConvertToLong()) {
            valid = Optional.of(id.longValue()).filter(JobKey::isValidId);
        } else if (id.isTextual()) {
            valid = JobKey.parseId(id.asText());
        }
        return valid.orElseThrow(() -> new IllegalArgumentException(
                "id " + shown(id.toString(), SHOWN_VALUE) + " is not a job id (a whole number from 1)"));
    }

    /** The job, or null when it never started; IllegalArgumentException naming the field when it cannot be replayed. */
    private static TraceJob job(long id, JsonNode node, Instant latest) {
        JsonNode started = node.get("started_at");
        if (started == null || started.isNull()) {
            return null; // never ran: asked for nothing a simulator can replay
        }
        Instant startedAt = timestamp(started, "started_at");
        double queued = Optional.ofNullable(seconds(node, "queued_duration")).orElse(0.0);
        Double duration = seconds(node, "duration");
        if (duration == null && node.hasNonNull("finished_at")) {
            Instant finishedAt = timestamp(node.get("finished_at"), "finished_at");
            duration = Duration.between(startedAt, finishedAt).toMillis() / 1000.0;
            if (duration < 0 || duration > MAX_JOB_DURATION.toSeconds()) {
                throw new IllegalArgumentException("finished_at " + finishedAt + " is not within "
                        + MAX_JOB_DURATION.toDays() + " days after started_at " + startedAt);
            }
        }
        if (duration == null) {
            throw new IllegalArgumentException("no duration or finished_at (still running?)");
        }
        Instant requested = startedAt.minusMillis(Math.round(queued * 1000));
        if (requested.isBefore(EARLIEST)) {
            throw new IllegalArgumentException("requested at " + requested + ", before " + EARLIEST);
        }
        if (startedAt.isAfter(latest)) {
            throw new IllegalArgumentException("started at " + startedAt + ", later than a day from now");
        }
        return new TraceJob(id, requested, Duration.ofMillis(Math.round(duration * 1000)), tags(node));
    }

    private static Instant timestamp(JsonNode value, String field) {
        if (!value.isTextual()) {
            throw new IllegalArgumentException(field + ": " + shown(value.toString(), SHOWN_VALUE) + " is not a timestamp");
        }
        try {
            return Timestamps.parse(value.asText());
        } catch (IllegalArgumentException | DateTimeException e) { // an offset of +99:00 parses, then fails
            throw new IllegalArgumentException(field + ": '" + shown(value.asText(), SHOWN_VALUE)
                    + "' is not a timestamp (expected 2021-02-23T02:41:37.886Z or 2021-01-13 17:57:05 UTC)");
        }
    }

    /** Seconds from 0 to {@link #MAX_JOB_DURATION}, or null when absent; numbers written as strings are numbers. */
    private static Double seconds(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        double seconds;
        if (value.isNumber()) {
            seconds = value.doubleValue();
        } else if (value.isTextual() && DECIMAL.matcher(value.asText().trim()).matches()) {
            seconds = Double.parseDouble(value.asText().trim());
        } else {
            throw new IllegalArgumentException(field + ": " + shown(value.toString(), SHOWN_VALUE) + " is not a number of seconds");
        }
        if (!(seconds >= 0 && seconds <= MAX_JOB_DURATION.toSeconds())) { // also false for NaN
            throw new IllegalArgumentException(field + ": " + shown(value.toString(), SHOWN_VALUE)
                    + " is not from 0 to " + MAX_JOB_DURATION.toSeconds() + " seconds (" + MAX_JOB_DURATION.toDays() + " days)");
        }
        return seconds;
    }

    private static List<String> tags(JsonNode node) {
        JsonNode list = node.get("tag_list");
        if (list == null || list.isNull()) {
            return List.of();
        }
        List<String> tags = new ArrayList<>();
        if (list.isArray()) {
            for (JsonNode tag : list) {
                if (!tag.isTextual()) {
                    tags = null;
                    break;
                }
                tags.add(tag.asText());
            }
        }
        if (!list.isArray() || tags == null) {
            throw new IllegalArgumentException("tag_list: " + shown(list.toString(), SHOWN_VALUE) + " is not a list of strings");
        }
        return tags;
    }

    /** Jackson's message without the list of every kind of JSON value it could have been. */
    private static String jacksonProblem(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage());
        int boilerplate = message.indexOf(": was expecting (JSON String, Number, Array, Object");
        return boilerplate > 0 ? message.substring(0, boilerplate) : message;
    }

    private static String describe(JsonToken token) {
        return switch (token) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.toString();
        };
    }

    private static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /**
     * Input as it may be shown: at most {@code max} characters (then how many there were), control
     * and formatting characters (terminal escapes, bidi overrides) as {@code ?}.
     */
    static String shown(String text, int max) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), max) + 24);
        for (int i = 0; i < text.length() && out.length() < max; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) || Character.getType(c) == Character.FORMAT ? '?' : c);
        }
        if (text.length() > max) {
            out.append("... (").append(text.length()).append(" chars)");
        }
        return out.toString();
    }
}
