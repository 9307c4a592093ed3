package io.runnerscale.simulate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A synthetic but CI-shaped workload, so the project ships a trace of its own: pipelines arrive
 * with a working-week rhythm, each a build stage, a test stage that fans out, and sometimes a
 * deploy; a stage starts when the previous one has finished. Written as GitLab API job objects.
 */
public final class SampleWorkload {
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private SampleWorkload() {
    }

    /** Pipelines per hour at a given moment: busy on weekday working hours (UTC), quiet otherwise. */
    static double pipelinesPerHour(ZonedDateTime time) {
        boolean weekend = time.getDayOfWeek() == DayOfWeek.SATURDAY || time.getDayOfWeek() == DayOfWeek.SUNDAY;
        int hour = time.getHour();
        if (weekend) {
            return 0.4;
        }
        if (hour < 7 || hour >= 20) {
            return 0.5;
        }
        return 3 + 5 * Math.sin(Math.PI * (hour - 7) / 13.0); // peaks early afternoon
    }

    public static List<ObjectNode> generate(Instant start, int days, long seed) {
        Random random = new Random(seed);
        ObjectMapper json = new ObjectMapper();
        List<ObjectNode> jobs = new ArrayList<>();
        long id = 1;
        Instant end = start.plusSeconds(days * 86_400L);
        Instant t = start;
        while (true) {
            double rate = pipelinesPerHour(t.atZone(ZoneOffset.UTC)); // thinning-free: rate changes slowly
            t = t.plusSeconds((long) Math.ceil(-Math.log(1 - random.nextDouble()) / rate * 3600));
            if (!t.isBefore(end)) {
                break;
            }
            Instant created = t;
            Instant stageStart = t;
            String[][] stages = {{"build", "compile", "image"}, {"test", "unit", "lint", "integration", "e2e",
                    "security", "docs", "bench", "race", "fuzz", "compat"}, {"deploy", "staging"}};
            for (int s = 0; s < stages.length; s++) {
                String stage = stages[s][0];
                int count = switch (s) {
                    case 0 -> 1 + random.nextInt(2);
                    case 1 -> 3 + random.nextInt(8);
                    default -> random.nextDouble() < 0.3 ? 1 : 0;
                };
                Instant stageEnd = stageStart;
                for (int j = 0; j < count; j++) {
                    double mean = s == 1 ? 300 : 150;
                    double duration = Math.max(5, mean * Math.exp(0.6 * random.nextGaussian() - 0.18));
                    Instant started = stageStart.plusMillis(random.nextInt(3000)); // runner poll jitter
                    Instant finished = started.plusMillis(Math.round(duration * 1000));
                    ObjectNode job = json.createObjectNode()
                            .put("id", id++)
                            .put("name", stages[s][1 + j % (stages[s].length - 1)] + (j >= stages[s].length - 1 ? "-" + j : ""))
                            .put("stage", stage)
                            .put("status", random.nextDouble() < 0.08 ? "failed" : "success")
                            .put("created_at", ISO.format(created))
                            .put("started_at", ISO.format(started))
                            .put("finished_at", ISO.format(finished))
                            .put("duration", Math.round(duration * 1000) / 1000.0)
                            .put("queued_duration", 0.0);
                    job.putArray("tag_list");
                    jobs.add(job);
                    if (finished.isAfter(stageEnd)) {
                        stageEnd = finished;
                    }
                }
                stageStart = stageEnd;
            }
        }
        jobs.sort(Comparator.comparing((ObjectNode j) -> j.get("started_at").asText()));
        return jobs;
    }

    /** Writes JSON Lines, one job a line. */
    public static int write(Path file, Instant start, int days, long seed) throws IOException {
        List<ObjectNode> jobs = generate(start, days, seed);
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (ObjectNode job : jobs) {
                out.write(job.toString());
                out.write('\n');
            }
        }
        return jobs.size();
    }
}
