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
    private readonly OneTierSilos _silos = new("cp-catalog-backup-", TierName,
        new Dictionary<string, string> { ["ControlPlane__Catalog__Backups__Schedule"] = "" });

    private string DataDirectory => _silos.DataDirectory;
    private LocalFleetOptions Fleet => _silos.Fleet;

    [Fact]
    public async Task A_catalog_lost_after_its_backup_is_restored_to_latest_with_later_changes_and_the_term_never_goes_back()
    {
        var first = Launch();
        var (tier, catalog, security) = await ConnectAsync(first);
        await tier.WaitAsync(TierControl.IsConverged, Converge);
        await first.WaitUntilAsync(async () => (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Archive.Streaming);

        var backup = await BackUpAsync(first, catalog);
        output.WriteLine($"catalog backup {backup.Id}: {backup.Bytes} bytes, WAL {backup.StartLsn}..{backup.StopLsn}");

        // Changes that live only in the catalog, made after the backup: a token, and a switchover's term and decision.
        var viewer = await security.CreateTokenAsync(new CreateTokenRequest { Name = "made-after-backup", Role = Role.Viewer });
        var mid = await SwitchOverAsync(tier);
        await WaitForArchiveCaughtUpAsync();

        await DestroyCatalogAsync();
        await first.WaitUntilAsync(async () => !(await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Reachable);
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
        var who = await new SecurityService.SecurityServiceClient(_silos.Connect(second, viewer.Token)).WhoAmIAsync(new WhoAmIRequest());
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
        await silo.WaitUntilAsync(async () =>
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

    /// <summary>
    /// The data directory deleted under the running postmaster, then the postmaster and its children SIGKILLed: nothing
    /// to restart. They are frozen (SIGSTOP) while the directory goes, so no checkpointer or stats writer puts a file back
    /// into it mid-delete ("Directory not empty").
    /// </summary>
    private async Task DestroyCatalogAsync()
    {
        var driver = await CatalogDriverAsync();
        var pid = driver.PostmasterPid() ?? throw new InvalidOperationException("the catalog has no postmaster.pid");
        int[] processes = [pid, .. ChildrenOf(pid)];
        foreach (var p in processes) Signal("STOP", p);
        Directory.Delete(driver.DataDirectory, recursive: true);
        foreach (var p in processes) Signal("KILL", p);
        output.WriteLine($"catalog data directory deleted, postmaster {pid} and {processes.Length - 1} children SIGKILLed");
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], out var ppid) && ppid == parent) yield return pid;
        }
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private Task<(int ExitCode, string Output, string Error)> RestoreAsync(params string[] args) =>
        SiloChild.RunVerbAsync("catalog-restore", ["--data-dir", DataDirectory, .. args], TimeSpan.FromMinutes(10));

    private async Task<Tier> SwitchOverAsync(TierControl tier)
    {
        var before = await tier.WaitConvergedAsync();
        var op = await tier.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = TierName });
        var done = await tier.WaitOperationAsync(op.Id, TimeSpan.FromSeconds(90));
        Assert.True(done.State == OperationState.Succeeded, $"switchover failed: {done}");
        return await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term > before.Term, Converge);
    }

    private Task<NpgsqlConnection> OpenCatalogAsync() => _silos.OpenCatalogAsync();

    private Task<LocalInstanceDriver> CatalogDriverAsync() => _silos.CatalogDriverAsync();

    private SiloChild Launch() => _silos.Launch();

    private async Task<(TierControl Tier, CatalogService.CatalogServiceClient Catalog, SecurityService.SecurityServiceClient Security)> ConnectAsync(SiloChild silo)
    {
        var invoker = await _silos.ConnectAsync(silo);
        var tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName,
            Fleet.SuperuserPasswordFile(TierName));
        await silo.WaitUntilAsync(async () => (await tier.GetAsync()) is not null);
        return (tier, new CatalogService.CatalogServiceClient(invoker), new SecurityService.SecurityServiceClient(invoker));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _silos.DisposeAsync();
}
