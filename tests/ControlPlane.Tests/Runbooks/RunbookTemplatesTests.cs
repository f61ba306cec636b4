using ControlPlane.Silo.Runbooks;
using Xunit;

namespace ControlPlane.Tests.Runbooks;

/// <summary>Every runbook template renders for every tier of the fleet, in every shape a tier can be in.</summary>
public sealed class RunbookTemplatesTests
{
    public static TheoryData<string, string> KindsAndTiers()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in RunbookKinds.All)
            foreach (var tier in new[] { "oltp", "content", "queue", "olap" })
                data.Add(kind, tier);
        return data;
    }

    private static RunbookReplica Replica(string tier, int n, int port, bool primary) =>
        new($"{tier}-{n}", "127.0.0.1", port, primary ? "primary" : "standby", true, primary ? 0 : 4096, $"/srv/cp/{tier}-{n}", "postgres", "controlplane",
            $"/srv/cp/secrets/{tier}.password", $"PGPASSWORD=\"$(cat /srv/cp/secrets/{tier}.password)\" psql \"host=127.0.0.1 port={port} dbname=postgres user=controlplane sslmode=require\"");

    private static RunbookFacts Facts(string tier, bool full = true) => new(
        "local", tier, "cpctl", 4, "healthy", false,
        Replica(tier, 1, 55401, true),
        full ? [Replica(tier, 2, 55402, false), Replica(tier, 3, 55403, false)] : [],
        new RunbookHa(true, 3, 500, "off", 16 * 1024 * 1024, 30),
        new RunbookBackups("0 3 * * *", "0 5 * * 0", "1s", "5m", true, "/srv/cp/backups", full ? "20261206T030000Z-4" : "", full ? "2026-12-06 03:00:41Z" : "", "0ms", true),
        new RunbookPool(90, 30, 0, 30, full ? [new RunbookPoolTenant("acme", 20, 3, 1, 1)] : []),
        full ? [new RunbookTenant("acme", "schema", "tenant_acme")] : [],
        full ? [new RunbookChange("oltp-orders-idx", "halted", "index orders.created_at")] : [],
        "2026-12-06 12:00:00Z");

    [Theory]
    [MemberData(nameof(KindsAndTiers))]
    public void Every_template_renders_the_tiers_real_replicas_and_commands(string kind, string tier)
    {
        var markdown = RunbookTemplates.Render(kind, Facts(tier));
        Assert.StartsWith("# ", markdown);
        Assert.Contains(tier, RunbookTemplates.Title(markdown));
        Assert.Contains("127.0.0.1:55401", markdown);
        Assert.Contains($"cpctl ", markdown);
        Assert.Contains("```sh", markdown);
        Assert.Contains("Check:", markdown);
        Assert.DoesNotContain("{{", markdown);
        Assert.DoesNotContain("}}", markdown);
        Assert.DoesNotContain("\n\n\n", markdown);
    }

    [Theory]
    [MemberData(nameof(KindsAndTiers))]
    public void Every_template_renders_a_tier_without_standbys_backups_tenants_or_changes(string kind, string tier)
    {
        var markdown = RunbookTemplates.Render(kind, Facts(tier, full: false));
        Assert.StartsWith("# ", markdown);
        Assert.DoesNotContain("{{", markdown);
    }

    [Fact]
    public void Replica_tables_have_one_row_per_replica()
    {
        var markdown = RunbookTemplates.Render("failover", Facts("oltp"));
        Assert.Contains("| oltp-1 | primary | 127.0.0.1:55401 | yes | 0 B | /srv/cp/oltp-1 |\n| oltp-2 | standby | 127.0.0.1:55402 |", markdown);
        Assert.Contains("cpctl failover oltp --target oltp-2", markdown);
    }

    [Fact]
    public void Psql_commands_read_the_password_from_its_file_and_never_contain_it()
    {
        var markdown = RunbookTemplates.Render("switchover", Facts("oltp"));
        Assert.Contains("PGPASSWORD=\"$(cat /srv/cp/secrets/oltp.password)\" psql \"host=127.0.0.1 port=55401", markdown);
    }

    [Fact]
    public void An_environment_other_than_the_default_is_named_in_every_command()
    {
        var markdown = RunbookTemplates.Render("restore", Facts("oltp") with { Cpctl = "cpctl --environment prod" });
        Assert.Contains("cpctl --environment prod restore run oltp --backup 20261206T030000Z-4 --into standby", markdown);
    }

    [Theory]
    [InlineData("")]
    [InlineData("reboot")]
    [InlineData("Failover")]
    public void An_unknown_kind_is_refused_naming_the_kinds(string kind)
    {
        var error = Assert.Throws<ArgumentException>(() => RunbookTemplates.Render(kind, Facts("oltp")));
        Assert.Contains("expected one of failover, switchover, restore, pitr, rollback, leak, rejoin, erase", error.Message);
    }
}
