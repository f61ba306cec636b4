using ControlPlane.Grains.Upgrades;
using ControlPlane.Postgres.Upgrades;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Upgrades;

public sealed class UpgradeMethodPolicyTests
{
    private static readonly string[] Everything = [.. PgInstallation.PgUpgradeNewTools.Concat(PgInstallation.ClientTools).Distinct()];

    private static PgInstallation Install(int major, params string[] tools) =>
        new(major, $"/pg/{major}/bin", tools.ToHashSet(StringComparer.Ordinal), PgInstallation.Configured);

    /// <summary>Debian's 15 (server and client tools, pg_upgrade) and an npm 17 (server only), as on the test machines.</summary>
    private static readonly IReadOnlyList<PgInstallation> DebianAndNpm =
    [
        Install(15, Everything),
        Install(17, "initdb", "pg_ctl", "postgres"),
    ];

    [Fact]
    public void Logical_needs_only_the_targets_server_and_copies_the_schema_with_the_sources_client_tools()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.Logical, 15, 17, DebianAndNpm);
        Assert.True(verdict.Possible, verdict.Reason);
        Assert.Equal(17, verdict.Server!.Major);
        Assert.Equal(15, verdict.ClientTools!.Major);
    }

    [Fact]
    public void Dump_with_only_the_sources_client_tools_is_possible_and_says_the_targets_pg_dump_is_recommended()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.Dump, 15, 17, DebianAndNpm);
        Assert.True(verdict.Possible, verdict.Reason);
        Assert.Equal(15, verdict.ClientTools!.Major);
        Assert.Contains("recommends the target's own pg_dump", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_prefers_the_targets_own_client_tools()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.Dump, 15, 17, [Install(15, Everything), Install(17, Everything)]);
        Assert.True(verdict.Possible);
        Assert.Equal(17, verdict.ClientTools!.Major);
    }

    [Fact]
    public void Client_tools_older_than_the_source_cannot_dump_it()
    {
        // pg_dump refuses a server newer than itself.
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.Dump, 15, 17, [Install(14, Everything), Install(15, "postgres"), Install(17, "initdb", "pg_ctl", "postgres")]);
        Assert.False(verdict.Possible);
        Assert.Contains("no client tools", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Pg_upgrade_without_pg_upgrade_in_the_target_says_so_with_the_directory()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.PgUpgrade, 15, 17, DebianAndNpm);
        Assert.False(verdict.Possible);
        Assert.Equal("not possible: no pg_upgrade in /pg/17/bin", verdict.Reason);
    }

    [Fact]
    public void Pg_upgrade_is_possible_with_a_complete_target_and_the_sources_server()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.PgUpgrade, 15, 17, [Install(15, Everything), Install(17, Everything)]);
        Assert.True(verdict.Possible, verdict.Reason);
    }

    [Fact]
    public void Pg_upgrade_needs_the_sources_server_as_well()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.PgUpgrade, 15, 17, [Install(15, PgInstallation.ClientTools.ToArray()), Install(17, Everything)]);
        Assert.False(verdict.Possible);
        Assert.Contains("PostgreSQL 15 server", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_version_without_binaries_names_the_configuration_and_what_was_found()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.Logical, 15, 18, DebianAndNpm);
        Assert.False(verdict.Possible);
        Assert.Contains("no PostgreSQL 18 installation", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("ControlPlane:Upgrades:Installations:18", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("17 in /pg/17/bin", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_with_client_tools_but_no_server_cannot_host_the_upgraded_copy()
    {
        var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.Logical, 15, 17, [Install(15, Everything), Install(17, PgInstallation.ClientTools.ToArray())]);
        Assert.False(verdict.Possible);
        Assert.Contains("has no initdb, pg_ctl, postgres", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_source_version_allows_nothing()
    {
        Assert.All(UpgradeMethodPolicy.Evaluate(0, 17, DebianAndNpm), v => Assert.False(v.Possible));
    }

    [Fact]
    public void No_method_is_possible_for_a_target_that_is_not_newer_than_the_source()
    {
        Gen.Int[10, 20].Select(Gen.Int[10, 20]).Where((s, t) => t <= s).Sample((source, target) =>
        {
            var installs = new[] { Install(source, Everything), Install(target, Everything) }.DistinctBy(i => i.Major).ToList();
            Assert.All(UpgradeMethodPolicy.Evaluate(source, target, installs), v =>
            {
                Assert.False(v.Possible);
                Assert.Contains("is not newer than", v.Reason, StringComparison.Ordinal);
            });
        });
    }

    [Fact]
    public void Every_possible_verdict_names_a_server_of_the_target_version()
    {
        var tools = Gen.Int[0, Everything.Length - 1].Array[0, Everything.Length].Select(a => a.Select(i => Everything[i]).ToArray());
        Gen.Select(tools, tools).Sample((sourceTools, targetTools) =>
        {
            foreach (var verdict in UpgradeMethodPolicy.Evaluate(15, 17, [Install(15, sourceTools), Install(17, targetTools)]))
            {
                if (!verdict.Possible) continue;
                Assert.Equal(17, verdict.Server!.Major);
                Assert.Empty(verdict.Server.Missing(PgInstallation.ServerTools));
                Assert.NotNull(verdict.ClientTools);
            }
        });
    }

    [Fact]
    public void Discovery_prefers_a_configured_directory_and_reads_debians_majors()
    {
        var root = Directory.CreateTempSubdirectory("cp-pginstall-").FullName;
        try
        {
            foreach (var (dir, tools) in new[] { ("debian/15/bin", new[] { "postgres", "pg_dump" }), ("debian/17/bin", ["postgres"]), ("npm17/bin", ["initdb", "pg_ctl", "postgres"]) })
            {
                Directory.CreateDirectory(Path.Combine(root, dir));
                foreach (var tool in tools) File.WriteAllText(Path.Combine(root, dir, tool), "");
            }
            Directory.CreateDirectory(Path.Combine(root, "debian", "not-a-version"));
            var found = PgInstallations.Discover(new Dictionary<int, string> { [17] = Path.Combine(root, "npm17/bin") }, Path.Combine(root, "debian"));
            Assert.Equal([15, 17], found.Select(i => i.Major));
            Assert.Equal(PgInstallation.Debian, found[0].Origin);
            Assert.Equal(Path.Combine(root, "npm17/bin"), found[1].BinDirectory);
            Assert.True(found[1].Has("initdb"));
            Assert.False(found[1].Has("pg_upgrade"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void A_discovered_target_with_pg_upgrade_allows_pg_upgrade_from_the_sources_server_but_a_same_major_target_is_still_refused()
    {
        // A fake directory listing: what a Debian postgresql-17 package would put beside Debian's 15.
        var root = Directory.CreateTempSubdirectory("cp-pginstall-").FullName;
        try
        {
            foreach (var major in new[] { "15", "17" })
            {
                Directory.CreateDirectory(Path.Combine(root, major, "bin"));
                foreach (var tool in Everything) File.WriteAllText(Path.Combine(root, major, "bin", tool), "");
            }
            var found = PgInstallations.Discover(new Dictionary<int, string>(), root);
            Assert.True(found.Single(i => i.Major == 17).Has("pg_upgrade"));

            var verdict = UpgradeMethodPolicy.Evaluate(UpgradeMethod.PgUpgrade, 15, 17, found);
            Assert.True(verdict.Possible, verdict.Reason);
            Assert.Equal(Path.Combine(root, "17", "bin"), verdict.Server!.BinDirectory);
            // The runner's old bin directory (-b): the source installation's.
            Assert.Equal(Path.Combine(root, "15", "bin"), verdict.ClientTools!.BinDirectory);
            Assert.Equal($"pg_upgrade of PostgreSQL 17 in {root}/17/bin, from PostgreSQL 15 in {root}/15/bin", verdict.Reason);

            // pg_upgrade runs 15 -> 15 too (the integration test drives the runner so), but that is no upgrade to rehearse.
            var same = UpgradeMethodPolicy.Evaluate(UpgradeMethod.PgUpgrade, 15, 15, found);
            Assert.False(same.Possible);
            Assert.Equal("target version 15 is not newer than the tier's 15", same.Reason);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("15.14 (Debian 15.14-0+deb12u1)", 15)]
    [InlineData("17.10", 17)]
    [InlineData("9.6.24", 9)]
    [InlineData("", 0)]
    [InlineData(null, 0)]
    public void The_major_is_read_from_server_version(string? version, int major) => Assert.Equal(major, PgInstallations.MajorOf(version));

    [Theory]
    [InlineData("logical", UpgradeMethod.Logical)]
    [InlineData("DUMP", UpgradeMethod.Dump)]
    [InlineData("pg_upgrade", UpgradeMethod.PgUpgrade)]
    [InlineData("pg-upgrade", UpgradeMethod.PgUpgrade)]
    public void Method_names_parse(string name, UpgradeMethod method)
    {
        Assert.True(UpgradeNames.TryParse(name, out var parsed));
        Assert.Equal(method, parsed);
    }

    [Fact]
    public void An_unknown_method_name_does_not_parse() => Assert.False(UpgradeNames.TryParse("rsync", out _));
}
