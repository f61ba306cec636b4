using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class FleetRenderingTests
{
    private static string Render(IRenderable renderable)
    {
        using var writer = new StringWriter();
        CliIo.CreateConsole(writer, colour: false, width: 240).Write(renderable);
        return writer.ToString();
    }

    [Fact]
    public void Status_puts_each_tier_header_above_its_replicas()
    {
        var response = new ListTiersResponse { Environment = "local" };
        response.Tiers.Add(FakeFleetService.SampleTier("oltp", 7));
        response.Tiers.Add(FakeFleetService.SampleTier("olap", 1));

        var text = Render(FleetRendering.Status(response, FakeFleetService.ProbedAt.AddMilliseconds(400)));

        var oltp = text.IndexOf("oltp  DEGRADED", StringComparison.Ordinal);
        var oltpReplica = text.IndexOf("oltp-2", StringComparison.Ordinal);
        var olap = text.IndexOf("olap  DEGRADED", StringComparison.Ordinal);
        Assert.True(oltp >= 0 && oltp < oltpReplica && oltpReplica < olap, text);
        Assert.Contains("0.4s ago", text, StringComparison.Ordinal);
        Assert.Contains("12/100", text, StringComparison.Ordinal);
        Assert.Contains("(oltp-2 is lagging)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_of_an_environment_without_tiers_says_so()
    {
        var text = Render(FleetRendering.Status(new ListTiersResponse { Environment = "dev" }, DateTimeOffset.UtcNow));
        Assert.Contains("no tiers in environment 'dev'", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Watch_line_of_a_change_lists_the_changes()
    {
        var tier = FakeFleetService.SampleTier("oltp", 7);
        var tierEvent = FakeFleetService.Event(tier, TierEventKind.Change, 8, "primary oltp-1 -> oltp-2", "term 2 -> 3");

        var line = Markup.Remove(FleetRendering.WatchLine(tierEvent));

        Assert.EndsWith("oltp  v8  DEGRADED  primary=oltp-1  term=2  primary oltp-1 -> oltp-2; term 2 -> 3", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_with_markup_characters_are_escaped()
    {
        var tier = FakeFleetService.SampleTier("oltp", 7);
        var tierEvent = FakeFleetService.Event(tier, TierEventKind.Change, 8, "problem: [disk full]");

        Assert.Contains("[disk full]", Render(new Markup(FleetRendering.WatchLine(tierEvent))), StringComparison.Ordinal);
    }
}
