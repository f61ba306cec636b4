using System.Globalization;
using System.Text;
using System.Xml.Linq;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Verify;

/// <summary>
/// A verification as JUnit XML (one testsuite per tier, one testcase per step: a failed step is a failure, a skipped
/// one is skipped, measurements are properties) and as text. Pure.
/// </summary>
internal static class VerifyJUnit
{
    public static string Write(VerifyReport report)
    {
        var suite = new XElement("testsuite",
            new XAttribute("name", $"cpctl verify {report.Environment}/{report.Tier}"),
            new XAttribute("tests", report.Steps.Count),
            new XAttribute("failures", report.Steps.Count(s => s.Outcome == VerifyOutcome.Failed)),
            new XAttribute("skipped", report.Steps.Count(s => s.Outcome == VerifyOutcome.Skipped)),
            new XAttribute("errors", 0),
            new XAttribute("time", Seconds(report.Duration)),
            new XAttribute("timestamp", report.StartedAt?.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) ?? ""));
        foreach (var step in report.Steps)
        {
            var testcase = new XElement("testcase",
                new XAttribute("classname", $"verify.{report.Tier}"),
                new XAttribute("name", step.Name),
                new XAttribute("time", Seconds(step.Duration)));
            if (step.Measurements.Count > 0)
            {
                testcase.Add(new XElement("properties", step.Measurements.OrderBy(m => m.Key, StringComparer.Ordinal)
                    .Select(m => new XElement("property", new XAttribute("name", m.Key), new XAttribute("value", m.Value.ToString(CultureInfo.InvariantCulture))))));
            }
            if (step.Outcome == VerifyOutcome.Failed) testcase.Add(new XElement("failure", new XAttribute("message", step.Detail), step.Detail));
            else if (step.Outcome == VerifyOutcome.Skipped) testcase.Add(new XElement("skipped", new XAttribute("message", step.Detail)));
            testcase.Add(new XElement("system-out", step.Detail));
            suite.Add(testcase);
        }
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", suite));
        return $"{document.Declaration}\n{document.Root}\n";
    }

    public static string Text(VerifyReport report)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"verify {report.Tier}: {(report.Passed ? "PASSED" : "FAILED")} in {report.Duration?.ToTimeSpan().TotalSeconds:0.0} s\n");
        foreach (var s in report.Steps)
        {
            var word = s.Outcome switch { VerifyOutcome.Passed => "pass", VerifyOutcome.Failed => "FAIL", _ => "skip" };
            b.Append(CultureInfo.InvariantCulture, $"  {word,-4} {s.Name,-12} {s.Duration?.ToTimeSpan().TotalSeconds,6:0.0} s  {s.Detail}\n");
        }
        return b.ToString();
    }

    private static string Seconds(Google.Protobuf.WellKnownTypes.Duration? d) =>
        (d?.ToTimeSpan().TotalSeconds ?? 0).ToString("0.000", CultureInfo.InvariantCulture);
}
