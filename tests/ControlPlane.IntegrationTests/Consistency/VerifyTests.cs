using System.Xml.Linq;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Xunit;

namespace ControlPlane.IntegrationTests.Consistency;

/// <summary><c>cpctl verify</c> against the real local fleet (tier <c>queue</c>), as a deployment pipeline runs it.</summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class VerifyTests(SiloFixture fixture)
{
    [Fact]
    public async Task Cpctl_verify_runs_every_step_and_writes_junit_xml_a_pipeline_can_parse()
    {
        var junit = Path.Combine(Path.GetTempPath(), $"cp-verify-{Guid.NewGuid():N}.xml");
        var before = await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = "queue" });
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var exit = await ControlPlane.Cli.CpctlApp.RunAsync(
                ["verify", "queue", "--load-seconds", "2", "--clients", "2", "--junit", junit, "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile],
                stdout, stderr, CancellationToken.None);

            Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
            var suite = XDocument.Load(junit).Root!.Element("testsuite")!;
            var cases = suite.Elements("testcase").ToDictionary(c => c.Attribute("name")!.Value);
            Assert.Equal(["consistency", "smoke:1", "smoke:2", "write-load", "switchover"], cases.Keys);
            Assert.Equal("0", suite.Attribute("failures")!.Value);
            Assert.Equal("0", suite.Attribute("skipped")!.Value);
            var load = cases["write-load"].Element("properties")!.Elements("property").ToDictionary(p => p.Attribute("name")!.Value, p => double.Parse(p.Attribute("value")!.Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(load["transactions"] > 0);
            Assert.True(load["p50_ms"] <= load["p95_ms"] && load["p95_ms"] <= load["p99_ms"] && load["p99_ms"] <= load["max_ms"]);
            Assert.Equal(0, load["errors"]);
            // pgbench is installed with the PostgreSQL 15 binaries here, so "auto" chose it.
            Assert.NotNull(ControlPlane.Postgres.Verify.WriteLoad.PgbenchPath());
            Assert.StartsWith("pgbench driver, 2 clients", cases["write-load"].Element("system-out")!.Value, StringComparison.Ordinal);
            Assert.Contains("back to " + before.Primary, cases["switchover"].Element("system-out")!.Value, StringComparison.Ordinal);

            var last = await new VerifyService.VerifyServiceClient(fixture.Invoker(fixture.AdminToken)).GetVerifyReportAsync(new GetVerifyReportRequest { Tier = "queue" });
            Assert.True(last.Passed);
            Assert.Equal(5, last.Steps.Count);
        }
        finally
        {
            File.Delete(junit);
        }
        var after = await fixture.WaitForTierAsync("queue", t => t.Health == TierHealth.Healthy, TimeSpan.FromMinutes(1));
        Assert.Equal(before.Primary, after.Primary);
    }

    [Fact]
    public async Task The_built_in_driver_runs_when_asked_and_an_unknown_driver_is_refused_before_anything_runs()
    {
        var (exit, stdout, stderr) = await CpctlAsync("verify", "queue", "--load-seconds", "1", "--clients", "2", "--load-driver", "built-in", "--no-switchover");
        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains("built-in driver, 2 clients", stdout, StringComparison.Ordinal);

        var before = await new VerifyService.VerifyServiceClient(fixture.Invoker(fixture.AdminToken)).GetVerifyReportAsync(new GetVerifyReportRequest { Tier = "queue" });
        var (badExit, _, badError) = await CpctlAsync("verify", "queue", "--load-driver", "jmeter");
        Assert.NotEqual(0, badExit);
        Assert.Contains("load_driver 'jmeter' is unknown; expected one of auto, pgbench, built-in", badError, StringComparison.Ordinal);
        var after = await new VerifyService.VerifyServiceClient(fixture.Invoker(fixture.AdminToken)).GetVerifyReportAsync(new GetVerifyReportRequest { Tier = "queue" });
        Assert.Equal(before.StartedAt, after.StartedAt);
    }

    private async Task<(int Exit, string Out, string Error)> CpctlAsync(params string[] arguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await ControlPlane.Cli.CpctlApp.RunAsync([.. arguments, "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
