using System.Diagnostics;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Catalog;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The catalog's backups across its HA life (docs/catalog.md, "Backups of the catalog" and "HA catalog"), on one silo
/// started with <c>--catalog-standby</c> (no fleet): the catalog primary is frozen (postmaster and children SIGSTOPped,
/// so its supervisor does not restart it) until the silo, a majority of one, promotes the standby. Backups then come
/// from the new primary and the archive continues on its timeline; a restore to latest from a backup of the old
/// timeline crosses the switch, makes the restored instance primary again and has the standby rebuilt from it.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class CatalogBackupFollowTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-catfollow-" + Guid.NewGuid().ToString("N")[..8]);
    private RunningSilo? _silo;
    private GrpcChannel? _channel;

    private string DataDirectory => Path.Combine(_root, "data");
    private string ManifestPath => Path.Combine(DataDirectory, CatalogInstance.ManifestFile);
    private string Superuser => Path.Combine(DataDirectory, "secrets", "catalog.superuser");

    [Fact]
    public async Task After_the_standbys_promotion_backups_come_from_it_and_a_restore_across_the_switch_rebuilds_the_standby()
    {
        var (catalog, security) = await StartAsync();
        await WaitAsync(async () => (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Archive.Streaming, "the archive streams from the first catalog instance");
        var before = await BackUpAsync(catalog);
        Assert.Equal(1, before.Timeline);

        // The primary hangs (every process frozen): the supervisor leaves a hung postmaster alone; the promoter does not.
        var first = _silo!.Instances.Catalog!.Driver;
        var standby = _silo.Instances.CatalogStandby!.Driver;
        await first.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
        try
        {
            await WaitAsync(async () => (await CatalogManifest.ReadAsync(ManifestPath, CancellationToken.None))!.PrimaryName == CatalogStandby.Name
                && await InRecoveryAsync(standby.Endpoint) == false, "the catalog standby is promoted", TimeSpan.FromMinutes(3));
        }
        finally
        {
            // The promotion killed the frozen processes (then nothing is left to thaw); whatever is left must not stay frozen.
            try
            {
                await first.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
            }
        }

        // The archive follows the new primary onto its timeline (its history file, then its WAL), and a backup is taken from it.
        await WaitForTimelineAsync(catalog, 2);
        var token = await CreateTokenAsync(security, "after-promotion");
        var after = await BackUpAsync(catalog);
        Assert.Equal(2, after.Timeline);
        await WaitForArchiveCaughtUpAsync(standby.Port);
        output.WriteLine($"backups: {before.Id} (timeline 1), {after.Id} (timeline 2 after the promotion); archive: {string.Join(", ", Directory.GetFiles(Wal).Select(Path.GetFileName))}");

        await StopAsync();
        var standbyMember = (await CatalogManifest.ReadAsync(ManifestPath, CancellationToken.None))!.Standbys!.Single();

        // A standby left running is refused: it would keep the abandoned history (here, as a second primary).
        var running = new LocalInstanceDriver(new LocalInstanceOptions("catalog", standbyMember.Name, standbyMember.DataDirectory, standbyMember.Port, Superuser, null), NullLogger.Instance);
        await running.StartAsync(CancellationToken.None);
        try
        {
            var refused = await RestoreAsync("--backup", before.Id);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains($"the catalog standby {CatalogStandby.Name} in '{running.DataDirectory}' is running", refused.Error, StringComparison.Ordinal);
        }
        finally
        {
            await running.StopAsync(StopMode.Fast, CancellationToken.None);
        }

        // From the backup of timeline 1 to latest: across the promotion's switch, through the archived history file.
        var clock = Stopwatch.StartNew();
        var restored = await RestoreAsync("--backup", before.Id, "--target", "latest");
        output.WriteLine($"catalog-restore: {clock.Elapsed.TotalSeconds:0.0} s (measured, not asserted): {restored.Output}");
        Assert.True(restored.ExitCode == 0, $"catalog-restore failed ({restored.ExitCode}): {restored.Error}{restored.Output}");
        var manifest = (await CatalogManifest.ReadAsync(ManifestPath, CancellationToken.None))!;
        Assert.Equal(CatalogInstance.PrimaryName, manifest.PrimaryName);
        Assert.Equal(1, manifest.Promotions);
        Assert.NotNull(manifest.SynchronousDegradedSince);
        Assert.False(Directory.Exists(standbyMember.DataDirectory), "the standby's diverged data directory was left in place");
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(standbyMember.DataDirectory)!, Path.GetFileName(standbyMember.DataDirectory) + ".diverged-*"));

        // Started again: the restored instance is primary, the standby rebuilt from it streams synchronously.
        (catalog, security) = await StartAsync();
        var primary = _silo.Instances.Catalog!.Driver;
        Assert.False(await InRecoveryAsync(primary.Endpoint));
        Assert.True(await InRecoveryAsync(_silo.Instances.CatalogStandby!.Driver.Endpoint));
        await CatalogStandby.WaitStreamingAsync(primary.Endpoint, synchronous: true, TimeSpan.FromMinutes(1), CancellationToken.None);
        // The rebuilt standby caught up: promotable again.
        await WaitAsync(async () => (await CatalogManifest.ReadAsync(ManifestPath, CancellationToken.None))!.SynchronousDegradedSince is null,
            "the restore's degraded mark is cleared once the rebuilt standby is synchronous and caught up");
        Assert.Equal(1L, await ScalarAsync(primary.Port, "SELECT count(*) FROM controlplane_tokens WHERE name = $1", token));
        await CreateTokenAsync(security, "after-restore");
        await WaitForTimelineAsync(catalog, 3);
    }

    private string Wal => Path.Combine(DataDirectory, CatalogBackupOptions.DefaultRepositoryName, "controlplane", "catalog", "wal");

    /// <summary>The archiver streams, and the archive holds the timeline's history file and WAL of it (a .partial at least).</summary>
    private async Task WaitForTimelineAsync(CatalogService.CatalogServiceClient catalog, int timeline)
    {
        var prefix = timeline.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        GetCatalogStatusResponse status;
        try
        {
            status = await WaitForAsync(() => catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest()).ResponseAsync,
                s => s.Archive.Streaming && File.Exists(Path.Combine(Wal, prefix + ".history"))
                    && Directory.EnumerateFiles(Wal, prefix + "*").Any(f => !f.EndsWith(".history", StringComparison.Ordinal)),
                $"the archive streams timeline {timeline} into {Wal}");
        }
        catch (TimeoutException)
        {
            // What the archive holds and what the primary said: the evidence of a broken continuation.
            output.WriteLine($"archive: {string.Join(", ", Directory.GetFiles(Wal).Select(Path.GetFileName))}");
            output.WriteLine($"archiver: {(await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Archive}");
            var primary = _silo!.Instances.CatalogStandby!.Driver;
            output.WriteLine($"{primary.Name}'s log:\n{(primary.Name == CatalogStandby.Name && timeline == 2 ? primary.LogTail(40) : _silo.Instances.Catalog!.Driver.LogTail(40))}");
            throw;
        }
        Assert.True(status.Archive.Enabled, status.Archive.DisabledReason);
    }

    private async Task<(CatalogService.CatalogServiceClient Catalog, SecurityService.SecurityServiceClient Security)> StartAsync()
    {
        Directory.CreateDirectory(_root);
        var grpcPort = TestPorts.Reserve();
        _silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--fleet", "none", "--catalog-standby", "--grpc-port", grpcPort.ToString(), "--metrics-port", TestPorts.Reserve().ToString()],
            c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["ControlPlane:Catalog:Backups:Schedule"] = "" }), TextWriter.Null, CancellationToken.None);
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var token = File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();
        var admin = _channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
        return (new CatalogService.CatalogServiceClient(admin), new SecurityService.SecurityServiceClient(admin));
    }

    private async Task StopAsync()
    {
        _channel?.Dispose();
        if (_silo is not null) await _silo.DisposeAsync();
        (_channel, _silo) = (null, null);
    }

    private async Task<CatalogBackup> BackUpAsync(CatalogService.CatalogServiceClient catalog)
    {
        // Right after a promotion the new primary's silo may still be taking the archive over: retried until it starts.
        var started = await WaitForAsync(async () =>
        {
            try
            {
                return await catalog.BackupCatalogAsync(new BackupCatalogRequest());
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return null;
            }
        }, b => b is not null, "a catalog backup starts");
        var done = await WaitForAsync(async () => (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Backups.LastOrDefault(b => b.Id == started!.Id),
            b => b is not null && b.State != "running", $"catalog backup {started!.Id} ends", TimeSpan.FromMinutes(3));
        Assert.True(done!.State == "succeeded", $"catalog backup {done.Id} {done.State}: {done.Error}");
        return done;
    }

    private static async Task<string> CreateTokenAsync(SecurityService.SecurityServiceClient security, string name)
    {
        var created = await security.CreateTokenAsync(new CreateTokenRequest { Name = $"{name}-{Guid.NewGuid().ToString("N")[..6]}", Role = Role.Viewer },
            deadline: DateTime.UtcNow.AddSeconds(60));
        return created.Info.Name;
    }

    /// <summary>The archiver (pg_receivewal, synchronous) has flushed everything the catalog primary on <paramref name="port"/> wrote.</summary>
    private async Task WaitForArchiveCaughtUpAsync(int port) =>
        await WaitAsync(async () => (bool)(await ScalarAsync(port,
            "SELECT coalesce(bool_and(flush_lsn >= pg_current_wal_lsn()), false) FROM pg_stat_replication WHERE application_name = 'controlplane_archive'"))!,
            "the catalog's WAL archive catches up");

    private async Task<(int ExitCode, string Output, string Error)> RestoreAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CatalogRestoreCommand.RunAsync(["--data-dir", DataDirectory, .. args], stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private async Task<object?> ScalarAsync(int port, string sql, params object[] parameters)
    {
        var csb = new NpgsqlConnectionStringBuilder(CatalogInstance.ConnectionStringOf(DataDirectory))
        {
            Host = "127.0.0.1", Port = port, TargetSessionAttributes = null, Pooling = false,
        };
        await using var connection = new NpgsqlConnection(csb.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters) command.Parameters.Add(new NpgsqlParameter { Value = p });
        return await command.ExecuteScalarAsync();
    }

    /// <summary>pg_is_in_recovery() of one instance; null while it does not answer.</summary>
    private static Task<bool?> InRecoveryAsync(ReplicaEndpoint endpoint) => CatalogProbe.TryInRecoveryAsync(endpoint, TimeSpan.FromSeconds(3));

    private static Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        WaitForAsync(condition, ok => ok, what, timeout);

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited in vain until {what}; last seen: {value}");
            await Task.Delay(500);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopAsync();
        TestDirectory.DeleteQuietly(_root);
    }
}
