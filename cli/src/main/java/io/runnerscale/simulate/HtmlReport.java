package io.runnerscale.simulate;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.DoubleFunction;
import java.util.function.ToIntFunction;

/**
 * Renders simulation results as one self-contained HTML page: inline CSS, SVG charts drawn here
 * rather than in the browser, no scripts and nothing fetched, so the file can be mailed or attached
 * to a merge request and still render.
 */
public final class HtmlReport {

    /** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
    private static final String[] COLORS =
            {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
    /** Paired with the colours so lines stay apart in greyscale too. */
    private static final String[] DASHES = {"", "9 4", "2 3", "10 3 2 3", "5 5", "1 2", "14 3"};

    private static final Style INSTANCES = new Style("#0072B2", "", 1.6);
    private static final Style RUNNING = new Style("#009E73", "7 3", 1.3);
    private static final Style WAITING = new Style("#D55E00", "2 2", 1.3);

    private static final int WIDTH = 1200;
    private static final long HOUR = 3600;
    private static final long DAY = 24 * HOUR;
    private static final long WEEK = 7 * DAY;
    /** 1970-01-05, the first Monday after the epoch: weekly ticks land on Mondays. */
    private static final long FIRST_MONDAY = 4 * DAY;
    private static final long[] TIME_STEPS = {15 * 60, 30 * 60, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
            DAY, 2 * DAY, WEEK, 2 * WEEK, 4 * WEEK};
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("MMM d", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("MMM d HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    /** The wait chart's vertical axis ends at 99.9 %: -log10(1 - 0.999). */
    private static final double TAIL_MAX = 3;
    private static final double[] TAIL_TICKS = {0, 0.5, 0.9, 0.99, 0.999};
    private static final String[] TAIL_LABELS = {"0%", "50%", "90%", "99%", "99.9%"};

    private static final String ORACLE = "oracle";
    private static final String ALWAYS_ON = "always_on";
    private static final String TASKSCALER = "gitlab_taskscaler";
    private static final String NONE = "–";

    private HtmlReport() {
    }

    public static void write(Path file, String title, String subtitle, List<SimulationResult> results)
            throws IOException {
        write(file, title, subtitle, results, null);
    }

    /** @param drainNote what the drain and spot figures mean (how the run modelled them); may be null */
    public static void write(Path file, String title, String subtitle, List<SimulationResult> results,
                             String drainNote) throws IOException {
        Files.writeString(file, render(title, subtitle, results, drainNote), StandardCharsets.UTF_8);
    }

    /**
     * @param perPool  the runs whose pools get a row each (e.g. an EC2 pool and a Fargate pool); empty for none
     * @param poolNote how the per-pool figures are made; may be null
     */
    public static void write(Path file, String title, String subtitle, List<SimulationResult> results,
                             String drainNote, List<SimulationResult> perPool, String poolNote) throws IOException {
        Files.writeString(file, render(title, subtitle, results, drainNote, perPool, poolNote), StandardCharsets.UTF_8);
    }

    /** @param results the headline policy first */
    public static String render(String title, String subtitle, List<SimulationResult> results) {
        return render(title, subtitle, results, null);
    }

    /**
     * @param results   the headline policy first
     * @param drainNote what the drain and spot figures mean; may be null
     */
    public static String render(String title, String subtitle, List<SimulationResult> results, String drainNote) {
        return render(title, subtitle, results, drainNote, List.of(), null);
    }

    /**
     * @param perPool  the runs whose pools get a row each; empty for none
     * @param poolNote how the per-pool figures are made; may be null
     */
    public static String render(String title, String subtitle, List<SimulationResult> results, String drainNote,
                                List<SimulationResult> perPool, String poolNote) {
        List<SimulationResult> rs = results == null ? List.of() : List.copyOf(results);
        StringBuilder sb = new StringBuilder(1 << 20);
        head(sb, title);
        sb.append("<body><main>\n<header><h1>").append(esc(title)).append("</h1>");
        if (subtitle != null && !subtitle.isBlank()) {
            sb.append("<p class=\"subtitle\">").append(esc(subtitle)).append("</p>");
        }
        sb.append("</header>\n");
        if (rs.isEmpty()) {
            sb.append("<p class=\"note\">No simulation results to report.</p>\n");
        } else {
            keyFigures(sb, rs);
            summaryTable(sb, rs);
            poolTable(sb, perPool == null ? List.of() : perPool, poolNote);
            drainTable(sb, rs, drainNote);
            webhookTable(sb, rs);
            timelines(sb, rs);
            waitDistribution(sb, rs);
            costChart(sb, rs);
            frontierChart(sb, rs);
            notes(sb, rs);
        }
        sb.append("</main></body></html>\n");
        return sb.toString();
    }

    // -- page frame ----------------------------------------------------------------------------

    private static void head(StringBuilder sb, String title) {
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>").append(esc(title)).append("</title>\n<style>\n").append(CSS)
                .append("</style></head>\n");
    }

    private static final String CSS = """
            :root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--hl:#eaf4fb}
            *{box-sizing:border-box}
            body{margin:0;color:var(--fg);background:#fff;
              font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
            main{max-width:1240px;margin:0 auto;padding:28px 20px 48px}
            h1{font-size:26px;margin:0 0 4px}
            h2{font-size:19px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
            h3{font-size:15px;margin:18px 0 4px}
            .subtitle{color:var(--muted);margin:0 0 18px;font-size:15px}
            .cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 4px}
            .card{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:180px}
            .card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
            .card .value{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums}
            .card .cmp{color:var(--muted);font-size:12px}
            .table-wrap{overflow-x:auto}
            table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
            caption{text-align:left;color:var(--muted);padding:0 0 6px}
            th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
            th:first-child,td:first-child{text-align:left}
            thead th{background:var(--soft);font-weight:600;vertical-align:bottom;white-space:normal;border-bottom:0}
            thead tr:last-child th,thead th[rowspan]{border-bottom:1px solid var(--line)}
            thead th.group{text-align:center;border-bottom:1px solid var(--line);padding-bottom:2px}
            tr.headline td{background:var(--hl);font-weight:600}
            .tag{display:inline-block;margin-left:6px;padding:0 6px;border-radius:9px;font-size:11px;font-weight:500;
              color:var(--muted);border:1px solid var(--line)}
            figure{margin:8px 0 24px}
            figcaption,.note{color:var(--muted);font-size:13px}
            svg{display:block;width:100%;height:auto;overflow:visible}
            svg text{font-size:12px;fill:#59636e}
            svg .legend text{fill:#1f2328;font-size:13px}
            svg .axis-title{font-size:12px;fill:#1f2328}
            svg .grid{stroke:#e6eaef;stroke-width:1}
            svg .grid-minor{stroke:#f1f3f5;stroke-width:1}
            svg .axis{stroke:#8c959f;stroke-width:1}
            svg .weekend{fill:#f5f6f8}
            svg .bar-label{fill:#1f2328;font-size:13px}
            svg .bar-label.headline{font-weight:600}
            footer{margin-top:36px;color:var(--muted);font-size:13px}
            footer li{margin:2px 0}
            """;

    // -- key figures and table -----------------------------------------------------------------

    private static void keyFigures(StringBuilder sb, List<SimulationResult> rs) {
        SimulationResult h = rs.getFirst();
        Optional<SimulationResult> rival = find(rs, TASKSCALER).filter(r -> r != h);
        sb.append("<section class=\"cards\" aria-label=\"Key figures for ").append(esc(h.policy())).append("\">");
        card(sb, "p95 wait", fmt1(h.waitPercentile(95)) + " s",
                rival.map(r -> esc(r.policy()) + ": " + fmt1(r.waitPercentile(95)) + " s").orElse(""));
        card(sb, "p99 wait", fmt1(h.waitPercentile(99)) + " s",
                rival.map(r -> esc(r.policy()) + ": " + fmt1(r.waitPercentile(99)) + " s").orElse(""));
        card(sb, "Instance-hours", fmt1(h.instanceHours()),
                rival.map(r -> esc(r.policy()) + ": " + fmt1(r.instanceHours())).orElse(""));
        Optional<SimulationResult> oracle = find(rs, ORACLE).filter(r -> r != h);
        if (oracle.isPresent()) {
            card(sb, "vs oracle", ratio(h, rs), "instance-hours ÷ oracle's");
        }
        if (h.costUsd() != null && Double.isFinite(h.costUsd())) {
            card(sb, "Cost", "$" + fmtCost(h.costUsd()),
                    rival.filter(r -> r.costUsd() != null).map(r -> esc(r.policy()) + ": $" + fmtCost(r.costUsd()))
                            .orElse(""));
        }
        sb.append("</section>\n");
    }

    private static void card(StringBuilder sb, String label, String value, String comparisonHtml) {
        sb.append("<div class=\"card\"><div class=\"label\">").append(label).append("</div><div class=\"value\">")
                .append(value).append("</div><div class=\"cmp\">").append(comparisonHtml).append("</div></div>");
    }

    private static void summaryTable(StringBuilder sb, List<SimulationResult> rs) {
        boolean oracle = find(rs, ORACLE).isPresent();
        sb.append("<section><h2>Summary</h2><div class=\"table-wrap\"><table>")
                .append("<caption>Waits are nearest-rank percentiles. The first row is the headline policy.</caption>")
                .append("<thead><tr>");
        for (String column : List.of("Policy", "Jobs")) {
            sb.append("<th scope=\"col\" rowspan=\"2\">").append(column).append("</th>");
        }
        sb.append("<th scope=\"colgroup\" colspan=\"4\" class=\"group\">Wait (seconds)</th>");
        boolean warm = rs.stream().anyMatch(r -> r.warm().any());
        List<String> columns = new ArrayList<>(List.of("Instance-hours", "Idle instance-hours", "Peak instances",
                "Interruptions", "Cost (USD)"));
        if (warm) {
            columns.addAll(List.of("Stopped instance-hours", "EBS (USD)", "Total (USD)"));
        }
        if (oracle) {
            columns.add("Instance-hours vs oracle");
        }
        for (String column : columns) {
            sb.append("<th scope=\"col\" rowspan=\"2\">").append(column).append("</th>");
        }
        sb.append("</tr><tr>");
        for (String column : List.of("p50", "p95", "p99", "max")) {
            sb.append("<th scope=\"col\">").append(column).append("</th>");
        }
        sb.append("</tr></thead><tbody>\n");
        for (int i = 0; i < rs.size(); i++) {
            summaryRow(sb, rs.get(i), i == 0, oracle ? ratio(rs.get(i), rs) : null, warm);
        }
        sb.append("</tbody></table></div></section>\n");
    }

    private static void summaryRow(StringBuilder sb, SimulationResult r, boolean headline, String ratio,
                                   boolean warm) {
        sb.append(headline ? "<tr class=\"headline\">" : "<tr>").append("<td>").append(esc(r.policy()));
        if (headline) {
            sb.append("<span class=\"tag\">headline</span>");
        } else if (isBound(r)) {
            sb.append("<span class=\"tag\">bound</span>");
        }
        sb.append("</td>");
        cell(sb, String.format(Locale.ROOT, "%,d", r.jobs()));
        cell(sb, fmt1(r.waitPercentile(50)));
        cell(sb, fmt1(r.waitPercentile(95)));
        cell(sb, fmt1(r.waitPercentile(99)));
        cell(sb, fmt1(r.maxWait()));
        cell(sb, fmt1(r.instanceHours()));
        cell(sb, fmt1(r.idleInstanceHours()));
        cell(sb, String.format(Locale.ROOT, "%,d", r.peakInstances()));
        cell(sb, String.format(Locale.ROOT, "%,d", r.interruptions()));
        cell(sb, r.costUsd() == null ? NONE : fmtCost(r.costUsd()));
        if (warm) {
            cell(sb, fmt1(r.warm().stoppedHours()));
            cell(sb, fmtCost(r.warm().ebsUsd()));
            cell(sb, r.totalUsd() == null ? NONE : fmtCost(r.totalUsd()));
        }
        if (ratio != null) {
            cell(sb, ratio);
        }
        sb.append("</tr>\n");
    }

    private static void cell(StringBuilder sb, String text) {
        sb.append("<td>").append(text).append("</td>");
    }

    /** Instance-hours relative to the oracle's, e.g. "1.30x"; "–" when there is nothing to divide by. */
    private static String ratio(SimulationResult r, List<SimulationResult> rs) {
        double base = find(rs, ORACLE).map(SimulationResult::instanceHours).orElse(0.0);
        double value = r.instanceHours() / base;
        return base > 0 && Double.isFinite(value) ? String.format(Locale.ROOT, "%.2fx", value) : NONE;
    }

    /** One row per pool of each given run: wait, instance- or task-hours, cost; left out when no run is given. */
    private static void poolTable(StringBuilder sb, List<SimulationResult> runs, String note) {
        if (runs.isEmpty()) {
            return;
        }
        boolean spot = runs.stream().flatMap(r -> r.pools().stream()).anyMatch(p -> p.interruptions() > 0);
        sb.append("<section><h2>Per pool</h2>");
        if (note != null && !note.isBlank()) {
            sb.append("<p class=\"note\">").append(esc(note)).append("</p>");
        }
        sb.append("<div class=\"table-wrap\"><table><caption>Each pool of the headline run and of every compared ")
                .append("pools file, on the same trace. A Fargate pool's instances are its tasks.</caption><thead><tr>");
        for (String column : List.of("Policy", "Pool", "Backend", "Jobs")) {
            sb.append("<th scope=\"col\" rowspan=\"2\">").append(column).append("</th>");
        }
        sb.append("<th scope=\"colgroup\" colspan=\"4\" class=\"group\">Wait (seconds)</th>");
        List<String> columns = new ArrayList<>(List.of("Instance-hours", "Idle instance-hours", "Peak instances",
                "Cost (USD)"));
        if (spot) {
            columns.addAll(List.of("Spot interruptions", "Jobs retried"));
        }
        for (String column : columns) {
            sb.append("<th scope=\"col\" rowspan=\"2\">").append(column).append("</th>");
        }
        sb.append("</tr><tr>");
        for (String column : List.of("p50", "p95", "p99", "max")) {
            sb.append("<th scope=\"col\">").append(column).append("</th>");
        }
        sb.append("</tr></thead><tbody>\n");
        for (SimulationResult r : runs) {
            for (SimulationResult.PoolResult p : r.pools()) {
                sb.append(r == runs.getFirst() ? "<tr class=\"headline\">" : "<tr>").append("<td>").append(esc(r.policy()))
                        .append("</td><td>").append(esc(p.pool())).append("</td><td>").append(esc(p.backend()))
                        .append("</td>");
                cell(sb, String.format(Locale.ROOT, "%,d", p.jobs()));
                cell(sb, fmt1(p.waitPercentile(50)));
                cell(sb, fmt1(p.waitPercentile(95)));
                cell(sb, fmt1(p.waitPercentile(99)));
                cell(sb, fmt1(p.maxWait()));
                cell(sb, fmt1(p.instanceHours()));
                cell(sb, fmt1(p.idleInstanceHours()));
                cell(sb, String.format(Locale.ROOT, "%,d", p.peakInstances()));
                cell(sb, p.costUsd() == null ? NONE : fmtCost(p.costUsd()));
                if (spot) {
                    cell(sb, String.format(Locale.ROOT, "%,d", p.interruptions()));
                    cell(sb, String.format(Locale.ROOT, "%,d", p.retried()));
                }
                sb.append("</tr>\n");
            }
        }
        sb.append("</tbody></table></div></section>\n");
    }

    /**
     * The drains of the simulated policies and the spot interruptions among them; left out when no
     * policy drained anything (the bounds never do).
     */
    private static void drainTable(StringBuilder sb, List<SimulationResult> rs, String note) {
        List<SimulationResult> drained = rs.stream().filter(r -> r.drains().drains() > 0).toList();
        if (drained.isEmpty()) {
            return;
        }
        boolean spot = drained.stream().anyMatch(r -> r.interruptions() > 0);
        sb.append("<section><h2>Drains").append(spot ? " and spot interruptions" : "").append("</h2>");
        if (note != null && !note.isBlank()) {
            sb.append("<p class=\"note\">").append(esc(note)).append("</p>");
        }
        sb.append("<div class=\"table-wrap\"><table><caption>A drain pauses the runner, waits for the jobs on it, ")
                .append("deletes the runner and terminates the instance, which bills meanwhile.")
                .append(spot ? " Retried jobs are the ones a spot interruption would have lost without the drain; "
                        + "their wait again and the work they lost are totals over the run." : "")
                .append("</caption><thead><tr>");
        List<String> columns = new ArrayList<>(List.of("Policy", "Drains", "Draining instance-hours"));
        if (spot) {
            columns.addAll(List.of("Spot warnings", "Jobs running at a warning", "Finished within the deadline",
                    "Cancelled and retried", "Retries' wait (min)", "Work lost (min)"));
        }
        for (String column : columns) {
            sb.append("<th scope=\"col\">").append(column).append("</th>");
        }
        sb.append("</tr></thead><tbody>\n");
        for (SimulationResult r : drained) {
            SimulationResult.Drains d = r.drains();
            sb.append(r == rs.getFirst() ? "<tr class=\"headline\">" : "<tr>").append("<td>").append(esc(r.policy()))
                    .append("</td>");
            cell(sb, String.format(Locale.ROOT, "%,d", d.drains()));
            cell(sb, fmt1(d.drainingInstanceHours()));
            if (spot) {
                cell(sb, String.format(Locale.ROOT, "%,d", d.interruptions()));
                cell(sb, String.format(Locale.ROOT, "%,d", d.jobsAtWarning()));
                cell(sb, String.format(Locale.ROOT, "%,d", d.finishedBeforeDeadline()));
                cell(sb, String.format(Locale.ROOT, "%,d", d.retried()));
                cell(sb, fmt1(d.retryWaitSeconds() / 60));
                cell(sb, fmt1(d.lostWorkSeconds() / 60));
            }
            sb.append("</tr>\n");
        }
        sb.append("</tbody></table></div></section>\n");
    }

    private static void webhookTable(StringBuilder sb, List<SimulationResult> rs) {
        List<SimulationResult> shown = WebhookFigures.shown(rs);
        if (shown.isEmpty()) {
            return;
        }
        sb.append("<section><h2>Lost webhooks and the reconciler</h2><p class=\"note\">")
                .append(esc(WebhookFigures.note(shown))).append("</p><div class=\"table-wrap\"><table><thead><tr>")
                .append("<th scope=\"col\">Policy</th>");
        for (String column : WebhookFigures.COLUMNS) {
            sb.append("<th scope=\"col\">").append(esc(column)).append("</th>");
        }
        sb.append("</tr></thead><tbody>\n");
        for (SimulationResult r : shown) {
            sb.append(r == rs.getFirst() ? "<tr class=\"headline\">" : "<tr>").append("<td>").append(esc(r.policy()))
                    .append("</td>");
            for (String value : WebhookFigures.cells(r)) {
                cell(sb, value);
            }
            sb.append("</tr>\n");
        }
        sb.append("</tbody></table></div></section>\n");
    }

    // -- chart 1: fleet over time --------------------------------------------------------------

    private static void timelines(StringBuilder sb, List<SimulationResult> rs) {
        sb.append("<section><h2>Jobs waiting and running vs instances over time</h2>\n");
        SimulationResult headline = rs.getFirst();
        if (headline.timeline().isEmpty()) {
            sb.append("<p class=\"note\">").append(esc(headline.policy()))
                    .append(" has no timeline (analytic bounds and empty traces are not sampled).</p>\n");
        }
        int index = 0;
        for (SimulationResult r : rs) {
            if (!r.timeline().isEmpty()) {
                timelineChart(sb, r, "timeline-" + index++, r == headline ? 380 : 250);
            }
        }
        sb.append("</section>\n");
    }

    private static void timelineChart(StringBuilder sb, SimulationResult r, String id, int height) {
        List<SimulationResult.Sample> samples = r.timeline();
        long t0 = samples.stream().mapToLong(SimulationResult.Sample::epochSecond).min().orElse(0);
        long t1 = samples.stream().mapToLong(SimulationResult.Sample::epochSecond).max().orElse(0);
        if (t1 <= t0) {
            t1 = t0 + HOUR;
        }
        int maxWaiting = samples.stream().mapToInt(SimulationResult.Sample::waiting).max().orElse(0);
        int maxRunning = samples.stream().mapToInt(SimulationResult.Sample::running).max().orElse(0);
        int maxInstances = samples.stream().mapToInt(SimulationResult.Sample::instances).max().orElse(0);
        Ticks y = Ticks.nice(Math.max(maxInstances, Math.max(maxRunning, maxWaiting)), height > 300 ? 6 : 4, true);
        Plot p = new Plot(WIDTH, height, 64, 40, 24, 46, t0, t1, 0, y.max());

        String title = "Jobs waiting and running vs instances over time: " + r.policy();
        String desc = String.format(Locale.ROOT,
                "%,d samples from %s to %s UTC. Peak %,d instances, %,d running jobs, %,d waiting jobs.",
                samples.size(), DATE_TIME.format(Instant.ofEpochSecond(t0)),
                DATE_TIME.format(Instant.ofEpochSecond(t1)), maxInstances, maxRunning, maxWaiting);

        sb.append("<figure id=\"").append(id).append("\"><h3>").append(esc(r.policy())).append("</h3>");
        svgOpen(sb, id, p, title, desc);
        boolean shaded = weekends(sb, p);
        timeAxis(sb, p);
        valueAxisY(sb, p, y, HtmlReport::fmtTick, "count");
        instancesArea(sb, p, samples);
        series(sb, p, samples, "instances", INSTANCES, SimulationResult.Sample::instances);
        series(sb, p, samples, "running", RUNNING, SimulationResult.Sample::running);
        series(sb, p, samples, "waiting", WAITING, SimulationResult.Sample::waiting);
        legend(sb, p.left(), 18, List.of("instances", "running jobs", "waiting jobs"),
                List.of(INSTANCES, RUNNING, WAITING));
        sb.append("</svg><figcaption>").append(esc(desc)).append(shaded ? " Weekends are shaded." : "")
                .append("</figcaption></figure>\n");
    }

    private static void instancesArea(StringBuilder sb, Plot p, List<SimulationResult.Sample> samples) {
        sb.append("<polygon fill=\"").append(INSTANCES.color())
                .append("\" fill-opacity=\"0.12\" stroke=\"none\" points=\"");
        for (SimulationResult.Sample s : samples) {
            point(sb, p.x(s.epochSecond()), p.y(s.instances()));
        }
        point(sb, p.x(samples.getLast().epochSecond()), p.y(0));
        point(sb, p.x(samples.getFirst().epochSecond()), p.y(0));
        trimSpace(sb);
        sb.append("\"/>\n");
    }

    private static void series(StringBuilder sb, Plot p, List<SimulationResult.Sample> samples, String name,
                               Style style, ToIntFunction<SimulationResult.Sample> value) {
        sb.append("<polyline data-series=\"").append(name).append('"');
        style.appendStroke(sb);
        sb.append(" points=\"");
        for (SimulationResult.Sample s : samples) {
            point(sb, p.x(s.epochSecond()), p.y(value.applyAsInt(s)));
        }
        trimSpace(sb);
        sb.append("\"/>\n");
    }

    /** Shades Saturdays and Sundays, where a CI workload's daily rhythm usually flattens. */
    private static boolean weekends(StringBuilder sb, Plot p) {
        long t0 = (long) p.x0();
        long t1 = (long) p.x1();
        if (t1 - t0 < 2 * DAY || t1 - t0 > 120 * DAY) {
            return false;
        }
        long saturday = FIRST_MONDAY + 5 * DAY;
        for (long start = alignDown(t0, WEEK, saturday); start < t1; start += WEEK) {
            double from = p.x(Math.max(start, t0));
            double to = p.x(Math.min(start + 2 * DAY, t1));
            if (to > from) {
                sb.append("<rect class=\"weekend\" x=\"");
                coord(sb, from);
                sb.append("\" y=\"").append(p.top()).append("\" width=\"");
                coord(sb, to - from);
                sb.append("\" height=\"").append(p.innerHeight()).append("\"/>");
            }
        }
        sb.append('\n');
        return true;
    }

    private static void timeAxis(StringBuilder sb, Plot p) {
        long t0 = (long) p.x0();
        long t1 = (long) p.x1();
        long step = timeStep(t1 - t0, Math.max(2, (int) (p.innerWidth() / 100)));
        if (step >= WEEK && t1 - t0 <= 120 * DAY) {
            for (long t = alignUp(t0, DAY, 0); t <= t1; t += DAY) {
                verticalLine(sb, p, p.x(t), "grid-minor");
            }
        }
        DateTimeFormatter format = step >= DAY ? DATE : DATE_TIME;
        long offset = step % WEEK == 0 ? FIRST_MONDAY : 0;
        for (long t = alignUp(t0, step, offset); t <= t1; t += step) {
            double x = p.x(t);
            verticalLine(sb, p, x, "grid");
            sb.append("<text x=\"");
            coord(sb, x);
            sb.append("\" y=\"").append(p.top() + p.innerHeight() + 18).append("\" text-anchor=\"middle\">")
                    .append(format.format(Instant.ofEpochSecond(t))).append("</text>");
        }
        axisTitleX(sb, p, "date (UTC)");
        sb.append('\n');
    }

    /** The smallest step that keeps at most {@code maxTicks} labels on the axis. */
    private static long timeStep(long span, int maxTicks) {
        for (long step : TIME_STEPS) {
            if (span / step <= maxTicks) {
                return step;
            }
        }
        long weeks = TIME_STEPS[TIME_STEPS.length - 1];
        return weeks * (span / weeks / maxTicks + 1);
    }

    // -- chart 2: wait distribution ------------------------------------------------------------

    private static void waitDistribution(StringBuilder sb, List<SimulationResult> rs) {
        sb.append("<section><h2>Wait distribution</h2>\n");
        List<Integer> simulated = new ArrayList<>();
        for (int i = 0; i < rs.size(); i++) {
            if (!rs.get(i).timeline().isEmpty() && rs.get(i).waitSeconds().length > 0) {
                simulated.add(i);
            }
        }
        if (simulated.isEmpty()) {
            sb.append("<p class=\"note\">No simulated policy has job waits to chart.</p></section>\n");
            return;
        }
        double p99 = simulated.stream().mapToDouble(i -> rs.get(i).waitPercentile(99)).max().orElse(0);
        Ticks x = Ticks.nice(p99 * 1.2, 10, false);
        Plot p = new Plot(WIDTH, 380, 64, 40, 24, 46, 0, x.max(), 0, TAIL_MAX);

        String title = "Wait distribution: share of jobs that started within a given wait";
        StringBuilder desc = new StringBuilder("Cumulative share of jobs by wait in seconds.");
        for (int i : simulated) {
            SimulationResult r = rs.get(i);
            desc.append(' ').append(r.policy()).append(": p50 ").append(fmt1(r.waitPercentile(50)))
                    .append(" s, p95 ").append(fmt1(r.waitPercentile(95))).append(" s, p99 ")
                    .append(fmt1(r.waitPercentile(99))).append(" s.");
        }
        sb.append("<figure id=\"waits\">");
        svgOpen(sb, "waits", p, title, desc.toString());
        valueAxisX(sb, p, x, HtmlReport::fmtTick, "wait (seconds)");
        tailAxis(sb, p);
        List<String> labels = new ArrayList<>();
        List<Style> styles = new ArrayList<>();
        for (int i : simulated) {
            SimulationResult r = rs.get(i);
            Style style = policyStyle(i);
            cdfLine(sb, p, r, style);
            labels.add(r.policy() + " (p95 " + fmt1(r.waitPercentile(95)) + " s)");
            styles.add(style);
        }
        legend(sb, p.left(), 18, labels, styles);
        sb.append("</svg><figcaption>")
                .append("Each line is the share of a policy's jobs that waited at most x seconds for a runner. ")
                .append("The vertical axis is stretched toward 100% so the slow tail (p90 to p99.9) stays visible; ")
                .append("a line further up and left is better. The axis ends at 1.2 × the largest p99.</figcaption>")
                .append("</figure></section>\n");
    }

    /** Vertical axis of the wait chart: -log10(1 - share), labelled as percentages. */
    private static void tailAxis(StringBuilder sb, Plot p) {
        for (int i = 0; i < TAIL_TICKS.length; i++) {
            double y = p.y(tail(TAIL_TICKS[i]));
            horizontalLine(sb, p, y, i == 0 ? "axis" : "grid");
            sb.append("<text x=\"").append(p.left() - 8).append("\" y=\"");
            coord(sb, y + 4);
            sb.append("\" text-anchor=\"end\">").append(TAIL_LABELS[i]).append("</text>");
        }
        axisTitleY(sb, p, "jobs started within x");
        sb.append('\n');
    }

    /** The empirical CDF as a staircase, sampled at roughly two pixels so long traces stay small. */
    private static void cdfLine(StringBuilder sb, Plot p, SimulationResult r, Style style) {
        double[] waits = r.waitSeconds();
        int steps = (int) (p.innerWidth() / 2);
        double previous = share(waits, 0);
        sb.append("<polyline data-policy=\"").append(esc(r.policy())).append('"');
        style.appendStroke(sb);
        sb.append(" points=\"");
        point(sb, p.x(0), p.y(tail(previous)));
        for (int i = 1; i <= steps; i++) {
            double x = p.x1() * i / steps;
            double current = share(waits, x);
            if (current != previous) {
                point(sb, p.x(x), p.y(tail(previous)));
                point(sb, p.x(x), p.y(tail(current)));
                previous = current;
            }
        }
        point(sb, p.x(p.x1()), p.y(tail(previous)));
        trimSpace(sb);
        sb.append("\"/>\n");
    }

    /** Share of the sorted waits that are at most {@code x}. */
    private static double share(double[] sorted, double x) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= x) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return sorted.length == 0 ? 0 : (double) lo / sorted.length;
    }

    private static double tail(double share) {
        return Math.min(TAIL_MAX, -Math.log10(Math.max(1e-9, 1 - share)));
    }

    // -- chart 3: cost -------------------------------------------------------------------------

    private static void costChart(StringBuilder sb, List<SimulationResult> rs) {
        boolean usd = rs.stream().allMatch(r -> r.costUsd() != null && Double.isFinite(r.costUsd()));
        String unit = usd ? "USD" : "instance-hours";
        String heading = "Cost per policy: " + unit + (usd ? "" : " (no price given)");
        DoubleFunction<String> label = usd ? v -> "$" + fmtCost(v) : v -> fmt1(v) + " h";
        double[] values = rs.stream().mapToDouble(r -> usd ? r.costUsd() : r.instanceHours())
                .map(v -> Double.isFinite(v) ? Math.max(0, v) : 0).toArray();

        int longest = rs.stream().mapToInt(r -> r.policy().length()).max().orElse(0);
        int left = Math.max(110, Math.min(320, 8 * longest + 24));
        int rowHeight = 34;
        Ticks x = Ticks.nice(Arrays.stream(values).max().orElse(0), 8, false);
        Plot p = new Plot(WIDTH, 16 + rowHeight * rs.size() + 46, left, 16, 120, 46, 0, x.max(), 0, rs.size());

        StringBuilder desc = new StringBuilder(heading).append('.');
        for (int i = 0; i < rs.size(); i++) {
            desc.append(' ').append(rs.get(i).policy()).append(": ").append(label.apply(values[i])).append('.');
        }
        sb.append("<section><h2 data-unit=\"").append(unit).append("\">").append(esc(heading)).append("</h2>\n")
                .append("<figure id=\"cost\">");
        svgOpen(sb, "cost", p, heading, desc.toString());
        valueAxisX(sb, p, x, usd ? v -> "$" + fmtTick(v) : HtmlReport::fmtTick, usd ? "USD" : "instance-hours");
        for (int i = 0; i < rs.size(); i++) {
            bar(sb, p, i, rowHeight, rs.get(i).policy(), values[i], label.apply(values[i]));
        }
        sb.append("</svg></figure></section>\n");
    }

    // -- chart 4: cost/wait frontier -------------------------------------------------------------

    /**
     * Each simulated policy as a point: x its cost (total dollars, EBS included, or instance-hours
     * without a price), y its p95 wait (a filled dot) and its p50 (a ring on the same x). The rows no
     * other row beats on both cost and p95 (the Pareto frontier) are joined by a line and marked. The
     * bounds are not policies: the oracle's cost is a dashed line, always_on is left out.
     */
    private static void frontierChart(StringBuilder sb, List<SimulationResult> all) {
        List<SimulationResult> rs = all.stream().filter(r -> !isBound(r)).toList();
        if (rs.size() < 2) {
            return;
        }
        boolean usd = rs.stream().allMatch(r -> r.totalUsd() != null && Double.isFinite(r.totalUsd()));
        double[] cost = rs.stream().mapToDouble(r -> usd ? r.totalUsd() : r.instanceHours()).toArray();
        double[] p95 = rs.stream().mapToDouble(r -> r.waitPercentile(95)).toArray();
        double[] p50 = rs.stream().mapToDouble(r -> r.waitPercentile(50)).toArray();
        boolean[] optimal = pareto(cost, p95);
        Double oracle = find(all, ORACLE).map(r -> usd ? r.totalUsd() : Double.valueOf(r.instanceHours()))
                .filter(v -> v != null && Double.isFinite(v)).orElse(null);
        DoubleFunction<String> costLabel = usd ? v -> "$" + fmtCost(v) : v -> fmt1(v) + " h";
        double maxCost = Math.max(Arrays.stream(cost).max().orElse(0), oracle == null ? 0 : oracle);
        Ticks x = Ticks.nice(maxCost * 1.05, 8, false);
        Ticks y = Ticks.nice(Arrays.stream(p95).max().orElse(0) * 1.1, 6, false);
        Plot p = new Plot(WIDTH, 380, 70, 16, 220, 46, 0, x.max(), 0, y.max());
        String heading = "Cost and wait: the frontier";
        StringBuilder desc = new StringBuilder("Each policy's ").append(usd ? "total cost in USD (EBS included)"
                : "instance-hours").append(" against its p95 wait (dot) and p50 wait (ring). On the frontier (no other "
                + "policy is both cheaper and faster at p95):");
        for (int i = 0; i < rs.size(); i++) {
            if (optimal[i]) {
                desc.append(' ').append(rs.get(i).policy()).append(';');
            }
        }
        desc.setLength(desc.length() - 1);
        desc.append('.');
        sb.append("<section><h2>").append(esc(heading)).append("</h2>\n<figure id=\"frontier\">");
        svgOpen(sb, "frontier", p, heading, desc.toString());
        valueAxisX(sb, p, x, usd ? v -> "$" + fmtTick(v) : HtmlReport::fmtTick,
                usd ? "total USD (instances + EBS)" : "instance-hours");
        valueAxisY(sb, p, y, v -> fmtTick(v) + " s", "wait (p95 dot, p50 ring)");
        if (oracle != null) {
            double ox = p.x(oracle);
            sb.append("<line x1=\"");
            coord(sb, ox);
            sb.append("\" x2=\"");
            coord(sb, ox);
            sb.append("\" y1=\"").append(p.top()).append("\" y2=\"").append(p.top() + p.innerHeight())
                    .append("\" stroke=\"#8c959f\" stroke-dasharray=\"4 4\"/><text x=\"");
            coord(sb, ox + 4);
            sb.append("\" y=\"").append(p.top() + 12).append("\">oracle ").append(esc(costLabel.apply(oracle)))
                    .append("</text>\n");
        }
        // the frontier, cheapest first
        Integer[] order = new Integer[rs.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(cost[a], cost[b]));
        sb.append("<polyline class=\"frontier\" points=\"");
        for (int i : order) {
            if (optimal[i]) {
                point(sb, p.x(cost[i]), p.y(p95[i]));
            }
        }
        trimSpace(sb);
        sb.append("\" fill=\"none\" stroke=\"#1f2328\" stroke-width=\"1.5\"/>\n");
        for (int i = 0; i < rs.size(); i++) {
            SimulationResult r = rs.get(i);
            String color = policyStyle(all.indexOf(r)).color();
            sb.append("<g class=\"policy").append(optimal[i] ? " pareto" : "").append("\" data-policy=\"")
                    .append(esc(r.policy())).append("\"><title>").append(esc(r.policy())).append(": ")
                    .append(esc(costLabel.apply(cost[i]))).append(", p95 ").append(fmt1(p95[i])).append(" s, p50 ")
                    .append(fmt1(p50[i])).append(" s").append(optimal[i] ? " (on the frontier)" : "")
                    .append("</title><circle cx=\"");
            coord(sb, p.x(cost[i]));
            sb.append("\" cy=\"");
            coord(sb, p.y(p50[i]));
            sb.append("\" r=\"4\" fill=\"#fff\" stroke=\"").append(color).append("\" stroke-width=\"1.5\"/><circle cx=\"");
            coord(sb, p.x(cost[i]));
            sb.append("\" cy=\"");
            coord(sb, p.y(p95[i]));
            sb.append("\" r=\"").append(optimal[i] ? 6 : 4).append("\" fill=\"").append(color).append('"')
                    .append(optimal[i] ? " stroke=\"#1f2328\" stroke-width=\"1.5\"" : "").append("/><text x=\"");
            coord(sb, p.x(cost[i]) + 9);
            sb.append("\" y=\"");
            coord(sb, p.y(p95[i]) - 6);
            sb.append("\" class=\"bar-label\">").append(esc(r.policy())).append(optimal[i] ? " ★" : "")
                    .append("</text></g>\n");
        }
        sb.append("</svg><figcaption>").append(esc(desc.toString()))
                .append(" ★ marks the frontier. The oracle (dashed) is a bound, not a policy.</figcaption></figure></section>\n");
    }

    /**
     * Which points no other point dominates (at most the cost and at most the wait, and less in one):
     * the cost/wait frontier. Equal points are all on it.
     */
    static boolean[] pareto(double[] cost, double[] wait) {
        boolean[] optimal = new boolean[cost.length];
        for (int i = 0; i < cost.length; i++) {
            optimal[i] = true;
            for (int j = 0; j < cost.length && optimal[i]; j++) {
                if (j != i && cost[j] <= cost[i] && wait[j] <= wait[i] && (cost[j] < cost[i] || wait[j] < wait[i])) {
                    optimal[i] = false;
                }
            }
        }
        return optimal;
    }

    /** One policy's bar, coloured like its line in the wait chart; the headline's name in bold. */
    private static void bar(StringBuilder sb, Plot p, int row, int rowHeight, String policy, double value,
                            String valueLabel) {
        double top = p.top() + row * rowHeight + 7;
        double middle = top + (rowHeight - 14) / 2.0 + 4;
        double width = p.x(value) - p.left();
        sb.append("<g><title>").append(esc(policy)).append(": ").append(esc(valueLabel)).append("</title>")
                .append("<text class=\"bar-label").append(row == 0 ? " headline" : "").append("\" x=\"")
                .append(p.left() - 10).append("\" y=\"");
        coord(sb, middle);
        sb.append("\" text-anchor=\"end\">").append(esc(policy)).append("</text><rect x=\"").append(p.left())
                .append("\" y=\"");
        coord(sb, top);
        sb.append("\" width=\"");
        coord(sb, width);
        sb.append("\" height=\"").append(rowHeight - 14).append("\" fill=\"")
                .append(policyStyle(row).color()).append("\" data-value=\"");
        coord(sb, value);
        sb.append("\"/><text class=\"bar-label\" x=\"");
        coord(sb, p.left() + width + 8);
        sb.append("\" y=\"");
        coord(sb, middle);
        sb.append("\">").append(esc(valueLabel)).append("</text></g>\n");
    }

    // -- notes ---------------------------------------------------------------------------------

    private static void notes(StringBuilder sb, List<SimulationResult> rs) {
        sb.append("<footer><ul>")
                .append("<li>A job's wait runs from asking for a runner to starting; ")
                .append("percentiles are nearest-rank.</li>")
                .append("<li>Times are UTC. Timelines are sampled, so short spikes between samples may not show.</li>");
        if (find(rs, ORACLE).isPresent()) {
            sb.append("<li><b>oracle</b> is a lower bound: every job gets its own instance launched exactly one boot ")
                    .append("time before it asks, so nothing waits and nothing idles. \"Instance-hours vs oracle\" ")
                    .append("divides each policy's instance-hours by the oracle's.</li>");
        }
        if (find(rs, ALWAYS_ON).isPresent()) {
            sb.append("<li><b>always_on</b> is a fixed fleet sized for the peak of concurrently running jobs and ")
                    .append("kept on for the whole trace: nothing waits, and it idles the rest of the time.</li>");
        }
        sb.append("</ul><p>Generated by runnerscale simulate.</p></footer>\n");
    }

    // -- SVG building blocks -------------------------------------------------------------------

    private static void svgOpen(StringBuilder sb, String id, Plot p, String title, String desc) {
        // Inline SVG in HTML needs no xmlns; leaving it out keeps the page free of any URL at all.
        sb.append("<svg viewBox=\"0 0 ").append(p.width()).append(' ')
                .append(p.height()).append("\" role=\"img\" aria-labelledby=\"").append(id).append("-title ")
                .append(id).append("-desc\"><title id=\"").append(id).append("-title\">").append(esc(title))
                .append("</title><desc id=\"").append(id).append("-desc\">").append(esc(desc)).append("</desc>\n");
    }

    /** Horizontal gridlines and labels for a value axis from 0 up the left side. */
    private static void valueAxisY(StringBuilder sb, Plot p, Ticks ticks, DoubleFunction<String> format, String title) {
        for (int i = 0; i <= ticks.count(); i++) {
            double y = p.y(ticks.step() * i);
            horizontalLine(sb, p, y, i == 0 ? "axis" : "grid");
            sb.append("<text x=\"").append(p.left() - 8).append("\" y=\"");
            coord(sb, y + 4);
            sb.append("\" text-anchor=\"end\">").append(format.apply(ticks.step() * i)).append("</text>");
        }
        axisTitleY(sb, p, title);
        sb.append('\n');
    }

    /** Vertical gridlines and labels for a value axis from 0 along the bottom. */
    private static void valueAxisX(StringBuilder sb, Plot p, Ticks ticks, DoubleFunction<String> format, String title) {
        for (int i = 0; i <= ticks.count(); i++) {
            double x = p.x(ticks.step() * i);
            verticalLine(sb, p, x, i == 0 ? "axis" : "grid");
            sb.append("<text x=\"");
            coord(sb, x);
            sb.append("\" y=\"").append(p.top() + p.innerHeight() + 18).append("\" text-anchor=\"middle\">")
                    .append(format.apply(ticks.step() * i)).append("</text>");
        }
        axisTitleX(sb, p, title);
        sb.append('\n');
    }

    private static void axisTitleX(StringBuilder sb, Plot p, String title) {
        sb.append("<text class=\"axis-title\" x=\"");
        coord(sb, p.left() + p.innerWidth() / 2);
        sb.append("\" y=\"").append(p.height() - 6).append("\" text-anchor=\"middle\">").append(esc(title))
                .append("</text>");
    }

    private static void axisTitleY(StringBuilder sb, Plot p, String title) {
        double y = p.top() + p.innerHeight() / 2;
        sb.append("<text class=\"axis-title\" transform=\"translate(16 ");
        coord(sb, y);
        sb.append(") rotate(-90)\" text-anchor=\"middle\">").append(esc(title)).append("</text>");
    }

    private static void horizontalLine(StringBuilder sb, Plot p, double y, String cssClass) {
        sb.append("<line class=\"").append(cssClass).append("\" x1=\"").append(p.left()).append("\" x2=\"")
                .append(p.left() + p.innerWidth()).append("\" y1=\"");
        coord(sb, y);
        sb.append("\" y2=\"");
        coord(sb, y);
        sb.append("\"/>");
    }

    private static void verticalLine(StringBuilder sb, Plot p, double x, String cssClass) {
        sb.append("<line class=\"").append(cssClass).append("\" x1=\"");
        coord(sb, x);
        sb.append("\" x2=\"");
        coord(sb, x);
        sb.append("\" y1=\"").append(p.top()).append("\" y2=\"").append(p.top() + p.innerHeight()).append("\"/>");
    }

    private static void legend(StringBuilder sb, double x, double y, List<String> labels, List<Style> styles) {
        sb.append("<g class=\"legend\">");
        double at = x;
        for (int i = 0; i < labels.size(); i++) {
            sb.append("<line x1=\"");
            coord(sb, at);
            sb.append("\" x2=\"");
            coord(sb, at + 30);
            sb.append("\" y1=\"");
            coord(sb, y - 4);
            sb.append("\" y2=\"");
            coord(sb, y - 4);
            sb.append('"');
            new Style(styles.get(i).color(), styles.get(i).dash(), 2.5).appendStroke(sb);
            sb.append("/><text x=\"");
            coord(sb, at + 38);
            sb.append("\" y=\"");
            coord(sb, y);
            sb.append("\">").append(esc(labels.get(i))).append("</text>");
            at += 60 + 7.5 * labels.get(i).length();
        }
        sb.append("</g>\n");
    }

    private static void point(StringBuilder sb, double x, double y) {
        coord(sb, x);
        sb.append(',');
        coord(sb, y);
        sb.append(' ');
    }

    private static void trimSpace(StringBuilder sb) {
        if (!sb.isEmpty() && sb.charAt(sb.length() - 1) == ' ') {
            sb.setLength(sb.length() - 1);
        }
    }

    /** One decimal at most, never "NaN", "Infinity" or "-0": SVG coordinates are parsed strictly. */
    private static void coord(StringBuilder sb, double v) {
        long tenths = Double.isFinite(v) ? Math.round(v * 10) : 0;
        if (tenths < 0) {
            sb.append('-');
            tenths = -tenths;
        }
        sb.append(tenths / 10);
        if (tenths % 10 != 0) {
            sb.append('.').append(tenths % 10);
        }
    }

    private static long alignUp(long t, long step, long offset) {
        return Math.floorDiv(t - offset + step - 1, step) * step + offset;
    }

    private static long alignDown(long t, long step, long offset) {
        return Math.floorDiv(t - offset, step) * step + offset;
    }

    // -- formatting and lookup -----------------------------------------------------------------

    private static String fmt1(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%,.1f", v) : NONE;
    }

    private static String fmtCost(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%,.2f", v) : NONE;
    }

    private static String fmtTick(double v) {
        if (Math.abs(v - Math.rint(v)) < 1e-9) {
            return String.format(Locale.ROOT, "%,d", (long) Math.rint(v));
        }
        // Steps such as 0.05 accumulate float noise: round it away, then drop trailing zeros.
        return new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }

    private static Style policyStyle(int index) {
        return new Style(COLORS[index % COLORS.length], DASHES[index % DASHES.length], 2);
    }

    private static boolean isBound(SimulationResult r) {
        return ORACLE.equals(r.policy()) || ALWAYS_ON.equals(r.policy());
    }

    private static Optional<SimulationResult> find(List<SimulationResult> rs, String policy) {
        return rs.stream().filter(r -> policy.equals(r.policy())).findFirst();
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    // -- geometry ------------------------------------------------------------------------------

    private record Style(String color, String dash, double width) {
        void appendStroke(StringBuilder sb) {
            sb.append(" fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"").append(width)
                    .append("\" stroke-linejoin=\"round\"");
            if (!dash.isEmpty()) {
                sb.append(" stroke-dasharray=\"").append(dash).append('"');
            }
        }
    }

    /** Ticks at 0, step, 2 step, ... up to max. */
    private record Ticks(double step, double max) {
        int count() {
            return (int) Math.round(max / step);
        }

        /** A 1-2-5 step giving about {@code target} ticks; [0, 1] when there is nothing to show. */
        static Ticks nice(double max, int target, boolean integers) {
            double top = Double.isFinite(max) && max > 0 ? max : 1;
            double rough = top / target;
            double magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
            double normalized = rough / magnitude;
            double step = (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
            if (integers) {
                step = Math.max(1, Math.round(step));
            }
            return new Ticks(step, Math.ceil(top / step - 1e-9) * step);
        }
    }

    /** The drawing area inside margins, mapping data to SVG coordinates (y grows downward). */
    private record Plot(int width, int height, int left, int top, int right, int bottom,
                        double x0, double x1, double y0, double y1) {
        double innerWidth() {
            return width - left - right;
        }

        double innerHeight() {
            return height - top - bottom;
        }

        double x(double v) {
            return left + (v - x0) / (x1 - x0) * innerWidth();
        }

        double y(double v) {
            return top + innerHeight() - (v - y0) / (y1 - y0) * innerHeight();
        }
    }
}
