using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Hosting;
using Xunit;

namespace ControlPlane.Tests.Hosting;

public sealed class ControlPlaneOptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Empty(new ControlPlaneOptions().Validate());
        Assert.Empty(new FleetOptions().Validate());
    }

    [Fact]
    public void A_non_loopback_listen_address_is_refused_unless_plaintext_on_network_is_allowed()
    {
        var options = new ControlPlaneOptions { ListenAddress = "0.0.0.0" };
        Assert.Contains(options.Validate(), e => e.Contains("not loopback", StringComparison.Ordinal));
        options.AllowPlaintextOnNetwork = true;
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(70000)]
    public void An_out_of_range_grpc_port_names_the_key_and_value(int port)
    {
        var error = Assert.Single(new ControlPlaneOptions { GrpcPort = port }.Validate());
        Assert.Contains($"ControlPlane:GrpcPort is {port}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_environment_name_is_refused()
    {
        var error = Assert.Single(new ControlPlaneOptions { Environment = "Prod!" }.Validate());
        Assert.Contains("ControlPlane:Environment is 'Prod!'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Configured_tiers_need_a_password_file_and_a_known_primary()
    {
        var options = new ControlPlaneOptions
        {
            Fleet = FleetSource.Config,
            Tiers = [new ConfiguredTier { Name = "oltp", Primary = "db-9", Replicas = [new ConfiguredReplica { Name = "db-1", Host = "db1.internal" }] }],
        };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("ControlPlane:Tiers:0:Primary is 'db-9'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ControlPlane:Tiers:0:Replicas:0:PasswordFile is empty", StringComparison.Ordinal));
    }

    [Fact]
    public void A_replica_on_a_host_needs_a_valid_host_name_and_an_absolute_data_directory()
    {
        var options = new ControlPlaneOptions
        {
            Fleet = FleetSource.Config,
            Tiers = [new ConfiguredTier { Name = "oltp", Primary = "oltp-a", Replicas =
                [new ConfiguredReplica { Name = "oltp-a", Host = "127.0.0.2", PasswordFile = "/s/pw", HostName = "Host_A", DataDirectory = "data/oltp-a" }] }],
        };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("ControlPlane:Tiers:0:Replicas:0:HostName is 'Host_A'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ControlPlane:Tiers:0:Replicas:0:DataDirectory is 'data/oltp-a'; expected an absolute path", StringComparison.Ordinal));
    }

    [Fact]
    public void A_silos_host_is_validated_and_its_flags_are_known()
    {
        var options = new ControlPlaneOptions { Host = new() { Name = "host-a", Address = "127.0.0.2", PeerNetworks = ["10.0.1.0/24", "ten"] } };
        Assert.Equal(["ControlPlane:Host:PeerNetworks names 'ten'; expected a network in CIDR notation such as 10.0.1.0/24."], options.Validate());
        Assert.Empty(SiloCommandLine.UnknownFlags(["--host", "host-a", "--host-address", "127.0.0.2"]));
    }

    [Fact]
    public void Config_fleet_without_tiers_is_refused()
    {
        Assert.Contains(new ControlPlaneOptions { Fleet = FleetSource.Config }.Validate(),
            e => e.Contains("ControlPlane:Tiers is empty", StringComparison.Ordinal));
    }

    [Fact]
    public void Probe_timeout_must_stay_below_the_interval()
    {
        var options = new FleetOptions { Interval = TimeSpan.FromMilliseconds(500), Timeout = TimeSpan.FromSeconds(1) };
        Assert.Contains(options.Validate(), e => e.Contains("ControlPlane:Probes:Timeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_silo_flags_are_reported()
    {
        Assert.Equal(["--grpc-prot"], SiloCommandLine.UnknownFlags(["--grpc-prot", "7400", "--data-dir", "/tmp/x"]));
        Assert.Empty(SiloCommandLine.UnknownFlags(["--data-dir=/tmp/x", "--fleet", "none"]));
    }

    [Theory]
    [InlineData("oltp", true)]
    [InlineData("oltp-2", true)]
    [InlineData("", false)]
    [InlineData("OLTP", false)]
    [InlineData("2oltp", false)]
    [InlineData("oltp/2", false)]
    public void Names_follow_the_documented_pattern(string name, bool valid) =>
        Assert.Equal(valid, FleetKeys.IsValidName(name));

    [Fact]
    public void Catalog_supervision_settings_out_of_range_name_the_key_and_value()
    {
        var options = new ControlPlaneOptions();
        options.Catalog.CheckInterval = TimeSpan.Zero;
        options.Catalog.UnreachableAfter = 0;
        options.Catalog.CrashLoopCount = 0;
        options.Catalog.SynchronousDegradeAfter = TimeSpan.FromMilliseconds(100);
        options.ShutdownTimeout = TimeSpan.FromHours(1);
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Catalog:CheckInterval is 00:00:00", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Catalog:UnreachableAfter is 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Catalog:CrashLoopCount is 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Catalog:SynchronousDegradeAfter is 00:00:00.1000000; expected 00:00:00.5 to 00:10:00", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:ShutdownTimeout is 01:00:00", StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_backup_settings_name_the_key_and_what_is_expected()
    {
        var options = new ControlPlaneOptions();
        options.Catalog.Backups.Schedule = "every hour";
        options.Catalog.Backups.KeepLast = 0;
        options.Catalog.Backups.Compression = "rar";
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Catalog:Backups:Schedule 'every hour' is not a cron schedule", StringComparison.Ordinal));
        Assert.Contains("ControlPlane:Catalog:Backups:KeepLast is 0; expected 1 to 1000.", errors);
        Assert.Contains("ControlPlane:Catalog:Backups:Compression is 'rar'; expected lz4, zstd, gzip or none.", errors);
    }

    [Fact]
    public void The_catalog_repository_defaults_to_a_directory_beside_the_catalog()
    {
        var backups = new ControlPlane.Silo.Catalog.CatalogBackupOptions();
        Assert.Equal("/srv/cp/catalog-backups", backups.RepositoryRoot("/srv/cp"));
        backups.Repository = "/mnt/backups";
        Assert.Equal("/mnt/backups", backups.RepositoryRoot("/srv/cp"));
        Assert.DoesNotContain(new ControlPlaneOptions().Validate(), e => e.Contains("Backups", StringComparison.Ordinal));
    }
}
