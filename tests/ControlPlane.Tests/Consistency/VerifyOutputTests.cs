using System.Xml.Linq;
using ControlPlane.Cli.Verify;
using ControlPlane.Postgres.Verify;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Consistency;

public sealed class VerifyOutputTests
{
    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var summary = LatencySummary.Of(Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToList());

        Assert.Equal(50, summary.P50Ms);
        Assert.Equal(95, summary.P95Ms);
        Assert.Equal(99, summary.P99Ms);
        Assert.Equal(100, summary.MaxMs);
        Assert.Equal(0, LatencySummary.Of([]).P99Ms);
    }

    [Fact]
    public void JUnit_output_has_one_testcase_per_step_with_failures_skips_and_measurements()
    {
        var report = new VerifyReport { Environment = "local", Tier = "oltp", Duration = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)), StartedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch) };
        report.Steps.Add(new VerifyStep { Name = "consistency", Outcome = VerifyOutcome.Passed, Detail = "ok", Duration = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)) });
        var load = new VerifyStep { Name = "write-load", Outcome = VerifyOutcome.Failed, Detail = "2 errors <&>" };
        load.Measurements["p95_ms"] = 1.5;
        report.Steps.Add(load);
        report.Steps.Add(new VerifyStep { Name = "switchover", Outcome = VerifyOutcome.Skipped, Detail = "production" });

        var suite = XDocument.Parse(VerifyJUnit.Write(report)).Root!.Element("testsuite")!;

        Assert.Equal("3", suite.Attribute("tests")!.Value);
        Assert.Equal("1", suite.Attribute("failures")!.Value);
        Assert.Equal("1", suite.Attribute("skipped")!.Value);
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(new[] { "consistency", "write-load", "switchover" }, cases.Select(c => c.Attribute("name")!.Value));
        Assert.Equal("2 errors <&>", cases[1].Element("failure")!.Attribute("message")!.Value);
        Assert.Equal("1.5", cases[1].Element("properties")!.Element("property")!.Attribute("value")!.Value);
        Assert.NotNull(cases[2].Element("skipped"));
    }
}
