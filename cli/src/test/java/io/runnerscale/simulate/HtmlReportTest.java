package io.runnerscale.simulate;

import io.runnerscale.simulate.SimulationResult.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportTest {

    private static final long T0 = 1_717_200_000L; // 2024-06-01T00:00:00Z
    private static final Pattern POLYLINE_POINTS = Pattern.compile("<polyline[^>]*\\spoints=\"([^\"]*)\"");
    private static final Pattern BAR_VALUE = Pattern.compile("<rect [^>]*data-value=\"([^\"]*)\"");

    // -- summary table -------------------------------------------------------------------------

    @Test
    void tableShowsEveryPolicysFormattedP95AndInstanceHours() {
        // Nearest-rank p95 of 20 waits is the 19th: 19 * 1.5 = 28.5 and 19 * 4 = 76.
        SimulationResult headline = result("runnerscale", waits(20, 1.5), 1234.56, 61.73, timeline(4));
        SimulationResult rival = result("gitlab_taskscaler", waits(20, 4), 2000.04, 100.0, timeline(4));
        String table = section(HtmlReport.render("t", "s", List.of(headline, rival)), "<h2>Summary</h2>");

        assertTrue(table.contains("<td>28.5</td>"), table);
        assertTrue(table.contains("<td>76.0</td>"), table);
        assertTrue(table.contains("<td>1,234.6</td>"), table);
        assertTrue(table.contains("<td>2,000.0</td>"), table);
        assertTrue(table.contains("<td>61.73</td>"), "cost in USD with cents");
        assertTrue(table.indexOf("runnerscale") < table.indexOf("gitlab_taskscaler"), "headline row first");
        assertTrue(table.contains("<tr class=\"headline\"><td>runnerscale"), "the first result is marked as headline");
    }

    @Test
    void tableShowsInstanceHoursRelativeToTheOracle() {
        String html = HtmlReport.render("t", "s", List.of(
                result("runnerscale", waits(5, 1), 130, null, timeline(3)),
                result("gitlab_taskscaler", waits(5, 2), 250, null, timeline(3)),
                result("oracle", new double[5], 100, null, List.of())));
        String table = section(html, "<h2>Summary</h2>");

        assertTrue(table.contains("Instance-hours vs oracle"));
        assertEquals(List.of("1.30x", "2.50x", "1.00x"), lastCells(table));
    }

    @Test
    void oracleColumnIsLeftOutWithoutAnOracleAndDashedWhenItUsedNoHours() {
        String withoutOracle = HtmlReport.render("t", "s",
                List.of(result("runnerscale", waits(5, 1), 130, null, timeline(3))));
        assertFalse(withoutOracle.contains("vs oracle"));

        String idleOracle = HtmlReport.render("t", "s", List.of(
                result("runnerscale", waits(5, 1), 130, null, timeline(3)),
                result("oracle", new double[5], 0, null, List.of())));
        assertEquals(List.of("–", "–"), lastCells(section(idleOracle, "<h2>Summary</h2>")));
    }

    @Test
    void missingCostIsShownAsDash() {
        String html = HtmlReport.render("t", "s", List.of(result("runnerscale", waits(5, 1), 10, null, timeline(3))));
        assertEquals(List.of("–"), lastCells(section(html, "<h2>Summary</h2>")));
    }

    // -- escaping and self-containment ---------------------------------------------------------

    @Test
    void escapesEveryStringFromInput() {
        String evil = "<script>alert('x')</script>";
        String html = HtmlReport.render("Report <b>&</b>", "trace \"a<b\".csv", List.of(
                result(evil, waits(10, 2), 50, 5.0, timeline(6)),
                result("gitlab_taskscaler", waits(10, 3), 60, 6.0, timeline(6))));

        assertFalse(html.contains("<script"), "no raw script tag anywhere");
        assertFalse(html.contains("<b>&</b>"));
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assertTrue(html.contains("<title>Report &lt;b&gt;&amp;&lt;/b&gt;</title>"));
        assertTrue(html.contains("trace &quot;a&lt;b&quot;.csv"));
    }

    @Test
    void pageIsSelfContained() {
        String html = HtmlReport.render("t", "s", realisticResults());

        for (String forbidden : List.of("http://", "https://", "<script", "<link", " src=", "url(", "@import",
                "<img")) {
            assertFalse(html.contains(forbidden), "page references something outside itself: " + forbidden);
        }
        assertTrue(html.contains("<style>"), "CSS is inline");
        assertTrue(html.contains("<svg "), "charts are inline SVG");
    }

    @Test
    void everyChartHasAnAccessibleTitle() {
        String html = HtmlReport.render("t", "s", realisticResults());
        int svgs = count(html, "<svg ");
        assertEquals(2 + 1 + 1 + 1, svgs, "two timelines, the wait chart, the cost chart and the frontier");
        assertEquals(svgs, count(html, "role=\"img\""));
        Matcher titles = Pattern.compile("<svg [^>]*>\\s*<title id=\"[^\"]+\">[^<]+</title><desc").matcher(html);
        assertEquals(svgs, titles.results().count());
    }

    // -- degenerate inputs ---------------------------------------------------------------------

    @Test
    void degenerateInputsNeverProduceNanOrInfinity() {
        List<List<SimulationResult>> cases = List.of(
                List.of(result("runnerscale", new double[0], 0, null, List.of())),
                List.of(result("runnerscale", new double[]{0}, 0, null, List.of())),
                List.of(result("runnerscale", new double[]{0}, 0.1, null, List.of(new Sample(T0, 0, 0, 0)))),
                List.of(result("runnerscale", new double[]{0, 0, 0}, 0, 0.0, List.of(
                        new Sample(T0, 0, 0, 0), new Sample(T0, 0, 0, 0)))),
                List.of(result("runnerscale", new double[]{0}, 1, null, timeline(2)),
                        result("oracle", new double[]{0}, 0, null, List.of())),
                List.of(result("runnerscale", new double[]{Double.NaN}, Double.NaN, Double.POSITIVE_INFINITY,
                        timeline(2))),
                List.of());
        for (List<SimulationResult> results : cases) {
            String html = HtmlReport.render("t", null, results);
            assertFalse(html.contains("NaN"), () -> "NaN for " + results);
            assertFalse(html.contains("Infinity"), () -> "Infinity for " + results);
            assertTrue(html.endsWith("</html>\n"));
        }
    }

    @Test
    void headlineWithoutTimelineSaysSoAndStillChartsTheOthers() {
        String html = HtmlReport.render("t", "s", List.of(
                result("runnerscale", new double[]{0}, 1, null, List.of()),
                result("gitlab_taskscaler", waits(3, 2), 2, null, timeline(3))));

        assertTrue(html.contains("runnerscale has no timeline"));
        assertTrue(figure(html, "timeline-0").contains("<h3>gitlab_taskscaler</h3>"));
    }

    // -- charts --------------------------------------------------------------------------------

    @Test
    void timelineDrawsOnePointPerSampleForEachSeries() {
        List<Sample> samples = List.of(new Sample(T0, 3, 1, 2), new Sample(T0 + 900, 0, 4, 4),
                new Sample(T0 + 1800, 1, 4, 5), new Sample(T0 + 2700, 0, 2, 5), new Sample(T0 + 3600, 0, 0, 1));
        String chart = timelineOf(result("runnerscale", waits(5, 1), 3, null, samples));

        List<String> polylines = polylinePoints(chart);
        assertEquals(3, polylines.size(), "waiting, running and instances");
        for (String points : polylines) {
            assertEquals(samples.size(), points.split(" ").length, points);
        }
        for (String series : List.of("waiting", "running", "instances")) {
            assertTrue(chart.contains("data-series=\"" + series + "\""), series);
        }
    }

    @Test
    void timelineSpansTheChartAndPutsThePeakAtTheTop() {
        List<Sample> samples = List.of(new Sample(T0, 0, 0, 0), new Sample(T0 + 3600, 0, 0, 10));
        String chart = timelineOf(result("runnerscale", waits(1, 1), 3, null, samples));
        String[] instances = pointsOf(chart, "instances").split(" ");

        double[] first = xy(instances[0]);
        double[] last = xy(instances[1]);
        assertTrue(last[0] > first[0] + 1000, "an hour spans the chart's width");
        assertTrue(last[1] < first[1], "more instances is drawn higher up");
        assertTrue(chart.contains("Peak 10 instances"));
    }

    @Test
    void oneTimelineChartPerSimulatedPolicyHeadlineFirst() {
        String html = HtmlReport.render("t", "s", realisticResults());

        assertTrue(figure(html, "timeline-0").contains("<h3>runnerscale</h3>"));
        assertTrue(figure(html, "timeline-1").contains("<h3>gitlab_taskscaler</h3>"));
        assertFalse(html.contains("id=\"timeline-2\""), "analytic bounds have no timeline");
        assertTrue(figure(html, "timeline-0").contains("Jun 1"), "UTC dates on the time axis");
    }

    @Test
    void waitChartHasOneLineAndLegendEntryPerSimulatedPolicy() {
        String chart = figure(HtmlReport.render("t", "s", realisticResults()), "waits");

        assertEquals(2, polylinePoints(chart).size());
        assertTrue(chart.contains("data-policy=\"runnerscale\""));
        assertTrue(chart.contains("data-policy=\"gitlab_taskscaler\""));
        assertFalse(chart.contains("data-policy=\"oracle\""));
        assertTrue(chart.contains("runnerscale (p95 "), "legend");
        assertTrue(chart.contains("stroke-dasharray"), "lines differ by dash pattern, not only colour");
    }

    @Test
    void waitChartLineEndsAtTheShareOfJobsWithinTheAxis() {
        // All waits equal: the line jumps from 0 % to the top of the axis at that wait.
        String chart = figure(HtmlReport.render("t", "s",
                List.of(result("runnerscale", new double[]{10, 10, 10, 10}, 1, null, timeline(2)))), "waits");
        String[] points = polylinePoints(chart).getFirst().split(" ");

        double bottom = xy(points[0])[1];
        double top = xy(points[points.length - 1])[1];
        assertTrue(top < bottom - 100, "from 0 % at no wait to 100 % at the end");
    }

    @Test
    void costChartUsesCostsWhenEveryPolicyHasOne() {
        String html = HtmlReport.render("t", "s", List.of(
                result("runnerscale", waits(3, 1), 130, 12.5, timeline(3)),
                result("oracle", new double[3], 100, 9.25, List.of())));
        String chart = section(html, "<h2 data-unit=");

        assertTrue(chart.contains("Cost per policy: USD"));
        assertEquals(List.of("12.5", "9.3"), barValues(chart));
        assertTrue(chart.contains("$12.50"));
        assertTrue(chart.contains("$9.25"));
    }

    @Test
    void costChartFallsBackToInstanceHoursWithoutPrices() {
        String html = HtmlReport.render("t", "s", List.of(
                result("runnerscale", waits(3, 1), 130, null, timeline(3)),
                result("oracle", new double[3], 100, null, List.of())));
        String chart = section(html, "<h2 data-unit=");

        assertTrue(chart.contains("Cost per policy: instance-hours (no price given)"));
        assertFalse(chart.contains("$"));
        assertEquals(List.of("130", "100"), barValues(chart));
        assertTrue(chart.contains("130.0 h"));
    }

    @Test
    void longBarIsWiderThanShortBar() {
        String html = HtmlReport.render("t", "s", List.of(
                result("a", waits(3, 1), 300, null, timeline(3)),
                result("b", waits(3, 1), 100, null, timeline(3))));
        Matcher widths = Pattern.compile("<rect [^>]*width=\"([^\"]*)\"[^>]*data-value")
                .matcher(section(html, "<h2 data-unit="));
        List<Double> found = widths.results().map(m -> Double.parseDouble(m.group(1))).toList();

        assertEquals(2, found.size());
        assertEquals(3.0, found.get(0) / found.get(1), 0.01);
    }

    @Test
    void monthLongTraceStaysSmall() {
        String html = HtmlReport.render("t", "s", realisticResults());
        assertTrue(html.length() < 1_500_000, "report is " + html.length() + " characters");
    }

    @Test
    void writeStoresTheRenderedPage(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("report.html");
        List<SimulationResult> results = List.of(result("runnerscale", waits(3, 1), 3, null, timeline(3)));
        HtmlReport.write(file, "Title ü", "s", results);

        assertEquals(HtmlReport.render("Title ü", "s", results), Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void paretoMarksThePointsNoOtherIsBothCheaperAndFaster() {
        double[] cost = {52, 92, 105, 63, 42, 100};
        double[] p95 = {54, 22, 21, 54, 60, 22};
        // 63/54 is beaten by 52/54 (cheaper, same wait); 100/22 by 92/22
        assertArrayEquals(new boolean[] {true, true, true, false, true, false}, HtmlReport.pareto(cost, p95));
        assertArrayEquals(new boolean[] {true, true}, HtmlReport.pareto(new double[] {1, 1}, new double[] {2, 2}),
                "equal points are both on the frontier");
    }

    @Test
    void theReportChartsTheCostWaitFrontierOfThePoliciesWithTheBoundsLeftOut() {
        SimulationResult.WarmFigures warm = new SimulationResult.WarmFigures(1000, 5, 3.29, 10, 8, 2);
        List<SimulationResult> results = List.of(
                result("runnerscale", waits(20, 3), 100, 4.0, timeline(3)),
                new SimulationResult("runnerscale:warm", 20, waits(20, 1), 90, 10, 5, 3.6,
                        SimulationResult.Drains.NONE, timeline(3), List.of(), null, warm),
                result("runnerscale+forecast", waits(20, 3.5), 120, 4.8, timeline(3)),
                result("oracle", new double[20], 80, 3.2, List.of()),
                result("always_on", new double[20], 900, 36.0, List.of()));
        String html = HtmlReport.render("t", "s", results);

        int frontier = html.indexOf("<figure id=\"frontier\">");
        assertTrue(frontier > 0, "the frontier chart is there");
        String chart = html.substring(frontier, html.indexOf("</figure>", frontier));
        // total dollars: the warm row's $3.60 + $3.29 EBS
        assertTrue(chart.contains("runnerscale:warm: $6.89, p95 19.0 s, p50 10.0 s"), chart);
        // runnerscale ($4, p95 57 s) and the warm row ($6.89, 19 s) are on it; the forecast ($4.80, 66.5 s) is not
        assertTrue(chart.contains("class=\"policy pareto\" data-policy=\"runnerscale\""), chart);
        assertTrue(chart.contains("class=\"policy pareto\" data-policy=\"runnerscale:warm\""), chart);
        assertTrue(chart.contains("class=\"policy\" data-policy=\"runnerscale+forecast\""), chart);
        assertFalse(chart.contains("data-policy=\"always_on\""), "bounds are no policies");
        assertFalse(chart.contains("data-policy=\"oracle\""));
        assertTrue(chart.contains("oracle $3.20"), "the oracle's cost as a reference line");
        assertTrue(chart.contains("<polyline class=\"frontier\""));
        // and the summary gets the warm pool's columns
        assertTrue(html.contains("<th scope=\"col\" rowspan=\"2\">EBS (USD)</th>"));
        assertTrue(html.contains("<td>1,000.0</td><td>3.29</td><td>6.89</td>"), "stopped hours, EBS, total");
    }

    @Test
    void withOnePolicyThereIsNoFrontierToDraw() {
        String html = HtmlReport.render("t", "s", List.of(result("runnerscale", waits(3, 1), 3, null, timeline(3)),
                result("oracle", new double[3], 2, null, List.of())));
        assertFalse(html.contains("id=\"frontier\""));
    }

    // -- fixtures and helpers ------------------------------------------------------------------

    private static SimulationResult result(String policy, double[] waits, double hours, Double cost,
                                           List<Sample> timeline) {
        return new SimulationResult(policy, waits.length, waits, hours, hours / 4, 5, cost, SimulationResult.Drains.NONE, timeline);
    }

    private static double[] waits(int count, double step) {
        double[] waits = new double[count];
        for (int i = 0; i < count; i++) {
            waits[i] = (i + 1) * step;
        }
        return waits;
    }

    private static List<Sample> timeline(int count) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            samples.add(new Sample(T0 + i * 900L, i % 3, i % 5, i % 5 + 1));
        }
        return samples;
    }

    /** A month sampled every 15 minutes with 9000 waits, like a real trace. */
    private static List<SimulationResult> realisticResults() {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < 31 * 96; i++) {
            int load = (int) Math.max(0, 20 * Math.sin(Math.PI * (i % 96) / 96.0));
            samples.add(new Sample(T0 + i * 900L, load / 4, load, load + 2));
        }
        double[] waits = new double[9000];
        for (int i = 0; i < waits.length; i++) {
            waits[i] = i % 10 == 0 ? 60 + i % 37 : i % 3;
        }
        return List.of(result("runnerscale", waits, 1300, 400.0, samples),
                result("gitlab_taskscaler", waits(9000, 0.02), 2100, 650.0, samples),
                result("always_on", new double[9000], 3000, 900.0, List.of()),
                result("oracle", new double[9000], 1000, 300.0, List.of()));
    }

    /** From the heading to the end of its section. */
    private static String section(String html, String heading) {
        int start = html.indexOf(heading);
        assertTrue(start >= 0, "missing " + heading);
        return html.substring(start, html.indexOf("</section>", start));
    }

    private static String timelineOf(SimulationResult result) {
        return figure(HtmlReport.render("t", "s", List.of(result)), "timeline-0");
    }

    private static String figure(String html, String id) {
        int start = html.indexOf("<figure id=\"" + id + "\"");
        assertTrue(start >= 0, "missing figure " + id);
        return html.substring(start, html.indexOf("</figure>", start));
    }

    private static List<String> polylinePoints(String svg) {
        return POLYLINE_POINTS.matcher(svg).results().map(m -> m.group(1)).toList();
    }

    private static String pointsOf(String svg, String series) {
        Matcher m = Pattern.compile("<polyline data-series=\"" + series + "\"[^>]*\\spoints=\"([^\"]*)\"").matcher(svg);
        assertTrue(m.find(), series);
        return m.group(1);
    }

    private static double[] xy(String point) {
        String[] parts = point.split(",");
        return new double[]{Double.parseDouble(parts[0]), Double.parseDouble(parts[1])};
    }

    private static List<String> barValues(String svg) {
        return BAR_VALUE.matcher(svg).results().map(m -> m.group(1)).toList();
    }

    /** The last cell of every body row. */
    private static List<String> lastCells(String table) {
        Matcher m = Pattern.compile("<td>([^<]*)</td></tr>").matcher(table);
        return m.results().map(r -> r.group(1)).toList();
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }
}
