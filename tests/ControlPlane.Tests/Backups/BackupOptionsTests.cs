using ControlPlane.Silo.Backups;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class BackupOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key, v => (string?)v.Value)).Build();

    [Fact]
    public void The_default_repository_and_restore_directory_live_under_the_data_directory()
    {
        var options = BackupHosting.ReadOptions(Config(), "/srv/cp");
        Assert.Equal("/srv/cp/backups", options.DefaultPolicy.Repository);
        Assert.Equal("/srv/cp/restores", options.RestoreDirectory);
    }

    [Fact]
    public void A_tier_section_overrides_only_the_fields_it_sets()
    {
        var options = BackupHosting.ReadOptions(Config(
            ("ControlPlane:Backups:DefaultPolicy:SecondRepository", "/mnt/dr"),
            ("ControlPlane:Backups:Tiers:olap:Schedule", "0 1 * * 6"),
            ("ControlPlane:Backups:Tiers:olap:KeepLast", "3")), "/srv/cp");
        var olap = options.PolicyFor("olap");
        Assert.Equal("0 1 * * 6", olap.Schedule);
        Assert.Equal(3, olap.KeepLast);
        Assert.Equal("/mnt/dr", olap.SecondRepository);
        Assert.Equal("/srv/cp/backups", olap.Repository);
        Assert.Equal(options.DefaultPolicy, options.PolicyFor("oltp"));
    }

    [Fact]
    public void An_unusable_tier_policy_stops_the_silo_naming_the_key()
    {
        var ex = Assert.Throws<ControlPlaneConfigurationException>(() =>
            BackupHosting.ReadOptions(Config(("ControlPlane:Backups:Tiers:queue:Compression", "brotli")), "/srv/cp"));
        Assert.Contains("ControlPlane:Backups:Tiers:queue: compression 'brotli'", ex.Message, StringComparison.Ordinal);
    }
}
