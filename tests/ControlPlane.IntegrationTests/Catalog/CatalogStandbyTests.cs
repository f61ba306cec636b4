using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>One silo started with <c>--catalog-standby</c> (no fleet): the catalog and its synchronous standby.</summary>
public sealed class CatalogStandbyFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-catstandby-" + Guid.NewGuid().ToString("N")[..8]);

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    public GrpcChannel Channel { get; private set; } = null!;
    public string AdminToken { get; private set; } = "";

    public CallInvoker Admin => Channel.Intercept(m =>
    {
        m.Add("authorization", "Bearer " + AdminToken);
        return m;
    });

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var grpcPort = TestPorts.Reserve();
        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--fleet", "none", "--catalog-standby", "--grpc-port", grpcPort.ToString(), "--metrics-port", TestPorts.Reserve().ToString()],
            configure: null, TextWriter.Null, CancellationToken.None);
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        AdminToken = File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();
    }

    /// <summary>A superuser session on one catalog instance (not through the multi-host string).</summary>
    public async Task<NpgsqlConnection> OpenAsync(int port, string database = "postgres")
    {
        var csb = new NpgsqlConnectionStringBuilder(Silo.Instances.CatalogConnectionString)
        {
            Host = "127.0.0.1", Port = port, TargetSessionAttributes = null, Pooling = false, Database = database,
        };
        var connection = new NpgsqlConnection(csb.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (Silo is not null) await Silo.DisposeAsync();
        TestDirectory.DeleteQuietly(_root);
    }
}

[Trait("Category", "Postgres")]
public sealed class CatalogStandbyTests(CatalogStandbyFixture fixture) : IClassFixture<CatalogStandbyFixture>
{
    [Fact]
    public async Task The_catalog_standby_streams_synchronously_from_the_primary()
    {
        var standby = fixture.Silo.Instances.CatalogStandby ?? throw new InvalidOperationException("no catalog standby");
        await using (var primary = await fixture.OpenAsync(fixture.Silo.Instances.Catalog!.Driver.Port))
        {
            await using var rows = new NpgsqlCommand(
                "SELECT sync_state, state FROM pg_stat_replication WHERE application_name = 'catalog-standby'", primary);
            await using var reader = await rows.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), "the primary has no replication connection named catalog-standby");
            Assert.Equal("quorum", reader.GetString(0));
            Assert.Equal("streaming", reader.GetString(1));
        }
        await using var replica = await fixture.OpenAsync(standby.Driver.Port);
        await using var recovery = new NpgsqlCommand("SELECT pg_is_in_recovery()", replica);
        Assert.True((bool)(await recovery.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Every_silo_connection_names_both_catalog_instances_and_finds_the_writable_one()
    {
        var csb = new NpgsqlConnectionStringBuilder(fixture.Silo.Instances.CatalogConnectionString);
        var hosts = CatalogConnectionString.Hosts(csb);
        Assert.Equal(
            [$"127.0.0.1:{fixture.Silo.Instances.Catalog!.Driver.Port}", $"127.0.0.1:{fixture.Silo.Instances.CatalogStandby!.Driver.Port}"], hosts);
        Assert.Equal("read-write", csb.TargetSessionAttributes);
        // The standby listed first must not matter: Npgsql skips it.
        var reversed = new NpgsqlConnectionStringBuilder(csb.ConnectionString) { Host = string.Join(',', hosts.Reverse()), Pooling = false };
        await using var connection = new NpgsqlConnection(reversed.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
        Assert.False((bool)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task An_acknowledged_command_is_already_on_the_standby()
    {
        var created = await new SecurityService.SecurityServiceClient(fixture.Admin).CreateTokenAsync(
            new CreateTokenRequest { Name = "sync-" + Guid.NewGuid().ToString("N")[..6], Role = Role.Viewer });
        Assert.False(string.IsNullOrEmpty(created.Token));
        await using var replica = await fixture.OpenAsync(fixture.Silo.Instances.CatalogStandby!.Driver.Port, CatalogInstance.DatabaseName);
        await using var flushed = new NpgsqlCommand("SELECT count(*) FROM controlplane_tokens WHERE name = $1", replica);
        flushed.Parameters.Add(new NpgsqlParameter { Value = created.Info.Name });
        var deadline = DateTime.UtcNow.AddSeconds(5);
        long count;
        // Synchronous commit: the standby flushed the commit before the primary answered; it is visible once replayed (milliseconds).
        while ((count = (long)(await flushed.ExecuteScalarAsync())!) == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, count);
    }
}

/// <summary>A killed catalog standby is started again by its silo, and streams synchronously again.</summary>
[Trait("Category", "Postgres")]
public sealed class CatalogStandbyRestartTests(CatalogStandbyFixture fixture) : IClassFixture<CatalogStandbyFixture>
{
    [Fact]
    public async Task A_killed_catalog_standby_is_restarted_by_its_silo_and_streams_synchronously_again()
    {
        var standby = fixture.Silo.Instances.CatalogStandby!.Driver;
        await standby.KillAsync(ControlPlane.Postgres.Instances.InstanceSignal.Kill, CancellationToken.None);
        await CatalogStandby.WaitStreamingAsync(fixture.Silo.Instances.Catalog!.Driver.Endpoint, synchronous: true, TimeSpan.FromMinutes(1), CancellationToken.None);
        var created = await new SecurityService.SecurityServiceClient(fixture.Admin).CreateTokenAsync(
            new CreateTokenRequest { Name = "restarted-" + Guid.NewGuid().ToString("N")[..6], Role = Role.Viewer },
            deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.False(string.IsNullOrEmpty(created.Token));
    }
}

/// <summary>Bad HA-catalog input: a clear error, and nothing provisioned.</summary>
[Trait("Category", "Postgres")]
public sealed class CatalogStandbyInputTests
{
    [Fact]
    public async Task A_standby_pointed_at_the_primarys_own_data_directory_is_refused_before_anything_starts()
    {
        using var root = new TempRoot();
        var data = Path.Combine(root.Path, "data");
        var error = await Assert.ThrowsAsync<ControlPlaneConfigurationException>(() => ControlPlaneHost.StartAsync(
            ["--data-dir", data, "--fleet", "none", "--catalog-standby", "--catalog-standby-dir", Path.Combine(data, "catalog", "data"),
             "--grpc-port", TestPorts.Reserve().ToString(), "--metrics-port", "0"],
            configure: null, TextWriter.Null, CancellationToken.None));
        Assert.Contains("is the catalog primary's own data directory", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(data, "catalog")), "the catalog was provisioned although the configuration was refused");
    }

    [Fact]
    public async Task A_catalog_connection_string_with_several_hosts_but_no_read_write_target_is_refused()
    {
        using var root = new TempRoot();
        var error = await Assert.ThrowsAsync<ControlPlaneConfigurationException>(() => ControlPlaneHost.StartAsync(
            ["--data-dir", Path.Combine(root.Path, "data"), "--fleet", "none", "--catalog", "Host=127.0.0.1:1,127.0.0.1:2;Database=controlplane;Username=postgres",
             "--grpc-port", TestPorts.Reserve().ToString(), "--metrics-port", "0"],
            configure: null, TextWriter.Null, CancellationToken.None));
        Assert.Contains("set Target Session Attributes=read-write", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_catalog_connection_string_without_a_writable_host_is_refused_naming_each_host()
    {
        using var root = new TempRoot();
        var (a, b) = (TestPorts.Reserve(), TestPorts.Reserve());
        var error = await Assert.ThrowsAsync<ControlPlaneConfigurationException>(() => ControlPlaneHost.StartAsync(
            ["--data-dir", Path.Combine(root.Path, "data"), "--fleet", "none",
             "--catalog", $"Host=127.0.0.1:{a},127.0.0.1:{b};Database=controlplane;Username=postgres;Target Session Attributes=read-write",
             "--grpc-port", TestPorts.Reserve().ToString(), "--metrics-port", "0"],
            configure: null, TextWriter.Null, CancellationToken.None));
        Assert.Contains("no host of the catalog connection string accepts writes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{a} (unreachable", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{b} (unreachable", error.Message, StringComparison.Ordinal);
    }

    private sealed class TempRoot : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cp-catinput-" + Guid.NewGuid().ToString("N")[..8]);
        public TempRoot() => Directory.CreateDirectory(Path);
        public void Dispose() => TestDirectory.DeleteQuietly(Path);
    }
}
