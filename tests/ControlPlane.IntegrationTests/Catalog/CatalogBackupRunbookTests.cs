using System.Diagnostics;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The runbook of docs/catalog.md ("Runbook: the catalog's data directory is lost"), step by step on a real silo (a
/// child process) with one tier: back up the catalog, change things only the catalog knows, destroy its data
/// directory and SIGKILL its postmaster, stop the silo, restore offline with <c>catalog-restore</c>, start again.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class CatalogBackupRunbookTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string TierName = "oltp";
    private static readonly TimeSpan Converge = TimeSpan.FromMinutes(3);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-catalog-backup-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<SiloChild> _silos = [];
    private readonly List<GrpcChannel> _channels = [];

    private string DataDirectory => Path.Combine(_root, "data");
    private LocalFleetOptions Fleet => new(DataDirectory) { Tiers = [TierName], StandbysPerTier = 1 };

    [Fact]
    public async Task A_catalog_lost_after_its_backup_is_restored_to_latest_with_later_changes_and_the_term_never_goes_back()
    {
        var first = Launch();
        var (tier, catalog, security) = await ConnectAsync(first);
        await tier.WaitAsync(TierControl.IsConverged, Converge);
        await WaitAsync(first, async () => (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Archive.Streaming);

        var backup = await BackUpAsync(first, catalog);
        output.WriteLine($"catalog backup {backup.Id}: {backup.Bytes} bytes, WAL {backup.StartLsn}..{backup.StopLsn}");

        // Changes that live only in the catalog, made after the backup: a token, and a switchover's term and decision.
        var viewer = await security.CreateTokenAsync(new CreateTokenRequest { Name = "made-after-backup", Role = Role.Viewer });
        var mid = await SwitchOverAsync(tier);
        await WaitForArchiveCaughtUpAsync();

        await DestroyCatalogAsync();
        await WaitAsync(first, async () => !(await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Reachable);
        // The runbook: SIGTERM, and SIGKILL when it has not exited after 30 s (with its catalog refusing connections,
        // Orleans retries its membership writes for minutes); the next start adopts the tier's running instances.
        first.Terminate();
        if (!await first.WaitForExitAsync(TimeSpan.FromSeconds(30))) first.Kill();

        var unknown = await RestoreAsync("--backup", "no-such-backup");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains($"--backup 'no-such-backup' is not a complete backup in the catalog repository; expected one of: {backup.Id}", unknown.Error, StringComparison.Ordinal);
        var tooEarly = await RestoreAsync("--target", "2001-01-01T00:00:00Z");
        Assert.Equal(2, tooEarly.ExitCode);
        Assert.Contains("is before the oldest catalog backup", tooEarly.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(DataDirectory, "catalog.damaged-*"));

        var clock = Stopwatch.StartNew();
        var restored = await RestoreAsync("--target", "latest");
        output.WriteLine($"catalog-restore took {clock.Elapsed.TotalSeconds:0.0} s (measured, not asserted): {restored.Output}");
        Assert.True(restored.ExitCode == 0, $"catalog-restore failed ({restored.ExitCode}): {restored.Error}{restored.Output}");
        Assert.Single(Directory.GetDirectories(DataDirectory, "catalog.damaged-*"));

        var second = Launch();
        (tier, catalog, security) = await ConnectAsync(second);
        var after = await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term >= mid.Term, Converge);
        Assert.Equal(mid.Term, after.Term);
        Assert.Contains(await tier.DecisionsAsync(), d => d.Term == mid.Term && d.Kind == "switchover");
        var who = await new SecurityService.SecurityServiceClient(Invoker(second, viewer.Token)).WhoAmIAsync(new WhoAmIRequest());
        Assert.Equal(viewer.Info.Id, who.TokenId);

        var overRunning = await RestoreAsync();
        Assert.Equal(2, overRunning.ExitCode);
        Assert.Contains("Stop the silo first", overRunning.Error, StringComparison.Ordinal);

        var end = await SwitchOverAsync(tier);
        Assert.True(end.Term > mid.Term, $"the switchover after the restore got term {end.Term}, expected above {mid.Term}");
    }

    private async Task<CatalogBackup> BackUpAsync(SiloChild silo, CatalogService.CatalogServiceClient catalog)
    {
        var started = await catalog.BackupCatalogAsync(new BackupCatalogRequest());
        Assert.Equal("running", started.State);
        CatalogBackup? done = null;
        await WaitAsync(silo, async () =>
        {
            done = (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Backups.LastOrDefault(b => b.Id == started.Id);
            return done is not null && done.State != "running";
        });
        Assert.True(done!.State == "succeeded", $"catalog backup {done.Id} {done.State}: {done.Error}");
        return done;
    }

    /// <summary>The archiver (pg_receivewal, synchronous) has flushed everything the catalog wrote.</summary>
    private async Task WaitForArchiveCaughtUpAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            await using var connection = await OpenCatalogAsync();
            await using var cmd = new NpgsqlCommand(
                "SELECT coalesce(bool_and(flush_lsn >= pg_current_wal_lsn()), false) FROM pg_stat_replication WHERE application_name = 'controlplane_archive'",
                connection);
            if ((bool)(await cmd.ExecuteScalarAsync())!) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the catalog's WAL archive did not catch up within a minute");
            await Task.Delay(200);
        }
    }

    /// <summary>The data directory deleted under the running postmaster, then the postmaster SIGKILLed: nothing to restart.</summary>
    private async Task DestroyCatalogAsync()
    {
        var driver = await CatalogDriverAsync();
        var pid = driver.PostmasterPid() ?? throw new InvalidOperationException("the catalog has no postmaster.pid");
        Directory.Delete(driver.DataDirectory, recursive: true);
        using var postmaster = Process.GetProcessById(pid);
        postmaster.Kill();
        output.WriteLine($"catalog data directory deleted, postmaster {pid} SIGKILLed");
    }

    private async Task<(int ExitCode, string Output, string Error)> RestoreAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { SiloChild.SiloAssembly(), "catalog-restore", "--data-dir", DataDirectory }.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start catalog-restore");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private async Task<Tier> SwitchOverAsync(TierControl tier)
    {
        var before = await tier.WaitConvergedAsync();
        var op = await tier.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = TierName });
        var done = await tier.WaitOperationAsync(op.Id, TimeSpan.FromSeconds(90));
        Assert.True(done.State == OperationState.Succeeded, $"switchover failed: {done}");
        return await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term > before.Term, Converge);
    }

    private async Task<NpgsqlConnection> OpenCatalogAsync()
    {
        var e = (await CatalogDriverAsync()).Endpoint;
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = e.Host, Port = e.Port, Database = "controlplane", Username = e.User, Password = SecretFile.Read(e.PasswordFile),
            Pooling = false, Timeout = 10,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task<LocalInstanceDriver> CatalogDriverAsync()
    {
        var driver = new LocalInstanceDriver(new LocalInstanceOptions("catalog", "catalog", Path.Combine(DataDirectory, "catalog", "data"), 0,
            Path.Combine(DataDirectory, "secrets", "catalog.superuser"), ReplicatorPasswordFile: null), NullLogger.Instance);
        await driver.AdoptPortAsync(remembered: null, CancellationToken.None);
        return driver;
    }

    private SiloChild Launch()
    {
        Directory.CreateDirectory(DataDirectory);
        var (grpc, metrics, siloPort) = (TestPorts.Reserve(), TestPorts.Reserve(), TestPorts.Reserve());
        var silo = SiloChild.Start(
            ["--data-dir", DataDirectory, "--grpc-port", grpc.ToString(), "--metrics-port", metrics.ToString(), "--silo-port", siloPort.ToString()],
            new Dictionary<string, string>
            {
                ["ControlPlane__LocalTiers__0"] = TierName,
                ["ControlPlane__StandbysPerTier"] = "1",
                ["ControlPlane__Backups__DefaultPolicy__Schedule"] = "",
                ["ControlPlane__Backups__DefaultPolicy__DrillSchedule"] = "",
                ["ControlPlane__Catalog__Backups__Schedule"] = "",
            },
            Path.Combine(_root, $"silo-{_silos.Count + 1}.log"), grpc, siloPort);
        _silos.Add(silo);
        return silo;
    }

    private CallInvoker Invoker(SiloChild silo, string token)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.GrpcPort}");
        _channels.Add(channel);
        return channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
    }

    private async Task<(TierControl Tier, CatalogService.CatalogServiceClient Catalog, SecurityService.SecurityServiceClient Security)> ConnectAsync(SiloChild silo)
    {
        var tokenFile = Path.Combine(DataDirectory, "admin.token");
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!File.Exists(tokenFile) || new FileInfo(tokenFile).Length == 0)
        {
            silo.ThrowIfExited();
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the silo wrote no admin token");
            await Task.Delay(200);
        }
        var invoker = Invoker(silo, (await File.ReadAllTextAsync(tokenFile)).Trim());
        var tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName,
            Fleet.SuperuserPasswordFile(TierName));
        await WaitAsync(silo, async () => (await tier.GetAsync()) is not null);
        return (tier, new CatalogService.CatalogServiceClient(invoker), new SecurityService.SecurityServiceClient(invoker));
    }

    private static async Task WaitAsync(SiloChild silo, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            silo.ThrowIfExited();
            try
            {
                if (await condition()) return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"condition not met within 3 minutes; the silo's last output:\n{silo.LogTail()}");
            await Task.Delay(250);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Task.WhenAll(_silos.Select(s => s.DisposeAsync().AsTask()));
        await LocalFleet.StopAsync(Fleet, NullLogger.Instance, CancellationToken.None);
        try
        {
            await (await CatalogDriverAsync()).StopAsync(StopMode.Immediate, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ProcessFailedException)
        {
        }
        try { Directory.Delete(_root, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}
