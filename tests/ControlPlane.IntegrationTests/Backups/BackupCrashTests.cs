using ControlPlane.IntegrationTests.Support;
using System.Net;
using System.Net.Sockets;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Backups;

/// <summary>
/// A silo SIGKILLed in the middle of a base backup: after a restart the backup is failed, never offered for restore,
/// and neither the orphaned pg_basebackup nor its half-written directory survives. A silo down while a scheduled
/// backup fell due: the backup runs once when the silo is back.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class BackupCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string TierName = "oltp";
    private readonly OneTierSilos _silos = new("cp-backup-crash-", TierName);

    private string DataDirectory => _silos.DataDirectory;
    private string BaseDirectory => Path.Combine(DataDirectory, "backups", "local", TierName, "base");

    [Fact]
    public async Task Killing_the_silo_mid_backup_leaves_a_failed_entry_that_is_never_offered_for_restore()
    {
        var first = Launch();
        var (tier, backups) = await ConnectAsync(first);
        await tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        // Slow enough that the kill lands mid-copy, whatever the machine.
        await backups.SetPolicyAsync(new BackupPolicy { MaxRateKbps = 32, Verify = false });
        var op = await backups.Client.StartBackupAsync(new StartBackupRequest { Tier = TierName });
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!BackupDirectories().Any(d => d.EndsWith(".partial", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        await Task.Delay(1500);
        Assert.Contains(BackupDirectories(), d => d.EndsWith(".partial", StringComparison.Ordinal));

        first.Kill();
        output.WriteLine($"killed the silo during backup {op.Subject}; pg_basebackup orphans: {BaseBackupProcesses().Count}");

        var second = Launch();
        (_, backups) = await ConnectAsync(second);
        Backup? after = null;
        var lastError = "";
        deadline = DateTime.UtcNow.AddMinutes(2);
        while (after?.State != BackupState.Failed && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            try { after = (await backups.ListAsync()).SingleOrDefault(b => b.Id == op.Subject); }
            catch (RpcException ex) { lastError = ex.Status.Detail; }
        }
        if (after is null)
        {
            var log = Path.Combine(_silos.Root, "silo-2.log");
            output.WriteLine($"last error: {lastError}; silo log tail:{Environment.NewLine}{string.Join(Environment.NewLine, File.ReadLines(log).TakeLast(60))}");
        }
        Assert.NotNull(after);
        Assert.Equal(BackupState.Failed, after.State);
        Assert.Contains("interrupted", after.Error, StringComparison.Ordinal);

        deadline = DateTime.UtcNow.AddSeconds(30);
        while ((BaseBackupProcesses().Count > 0 || BackupDirectories().Count > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        Assert.Empty(BaseBackupProcesses());
        Assert.Empty(BackupDirectories());

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await backups.Client.RestoreAsync(new RestoreRequest { Tier = TierName, BackupId = op.Subject }));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("cannot be restored", refused.Status.Detail, StringComparison.Ordinal);

        // The newest backup failed: the alert engine says so (BackupFailed, critical) until a backup succeeds.
        var labels = new Dictionary<string, string> { ["environment"] = "local", ["tier"] = TierName };
        var invoker = await _silos.ConnectAsync(second);
        var failed = await AlertWaits.FiringAsync(invoker, "local", "BackupFailed", labels, TimeSpan.FromMinutes(1));
        Assert.Equal("critical", failed.Severity);

        // The repository made unusable (its directory moved away, a file in its place, as a lost mount would leave
        // it): BackupRepositoryUnavailable fires; put back, it resolves.
        var repository = Path.Combine(DataDirectory, "backups");
        var away = repository + ".away";
        Directory.Move(repository, away);
        try
        {
            await File.WriteAllTextAsync(repository, "not a directory");
            await AlertWaits.FiringAsync(invoker, "local", "BackupRepositoryUnavailable", labels, TimeSpan.FromMinutes(1));
        }
        finally
        {
            File.Delete(repository);
            Directory.Move(away, repository);
        }
        await AlertWaits.ResolvedAsync(invoker, "local", "BackupRepositoryUnavailable", labels, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_scheduled_backup_missed_while_the_silo_was_down_runs_once_when_it_comes_back()
    {
        var first = Launch();
        var (tier, backups) = await ConnectAsync(first);
        await tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        // One occurrence a day, one to two minutes from now: it falls due while the silo is down.
        var due = DateTime.UtcNow.AddMinutes(2);
        due = new DateTime(due.Year, due.Month, due.Day, due.Hour, due.Minute, 0, DateTimeKind.Utc);
        await backups.SetPolicyAsync(new BackupPolicy { Schedule = $"{due.Minute} {due.Hour} * * *" });
        first.Kill();
        output.WriteLine($"silo killed at {DateTime.UtcNow:HH:mm:ss}; the backup is due at {due:HH:mm:ss}");
        while (DateTime.UtcNow < due.AddSeconds(3)) await Task.Delay(500);

        var second = Launch();
        (_, backups) = await ConnectAsync(second);
        // Patience, not a bound: on a loaded machine the restarted silo, its tier and the backup itself take minutes.
        var deadline = DateTime.UtcNow.AddMinutes(4);
        IReadOnlyList<Backup> scheduled = [];
        var lastError = "";
        while (!scheduled.Any(b => b.State == BackupState.Succeeded) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            second.ThrowIfExited();
            try { scheduled = [.. (await backups.ListAsync()).Where(b => b.Principal == "controlplane")]; }
            catch (RpcException ex) { lastError = ex.Status.Detail; }
        }
        if (!scheduled.Any(b => b.State == BackupState.Succeeded))
        {
            output.WriteLine($"scheduled: {string.Join("; ", scheduled.Select(b => $"{b.Id} {b.State} {b.Error}"))}; last error: {lastError}");
            output.WriteLine($"silo log tail:{Environment.NewLine}{second.LogTail()}");
        }
        Assert.Contains(scheduled, b => b.State == BackupState.Succeeded);
        output.WriteLine($"scheduled backup {scheduled[0].Id} started {scheduled[0].StartedAt.ToDateTime():HH:mm:ss}");
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.Single(await backups.ListAsync(), b => b.Principal == "controlplane");
    }

    private List<string> BackupDirectories() =>
        Directory.Exists(BaseDirectory) ? [.. Directory.EnumerateDirectories(BaseDirectory)] : [];

    /// <summary>pg_basebackup processes writing into this test's repository.</summary>
    private List<int> BaseBackupProcesses() =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Where(pid =>
            {
                try
                {
                    var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                    return cmdline.Contains("pg_basebackup", StringComparison.Ordinal) && cmdline.Contains(_silos.Root, StringComparison.Ordinal);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return false;
                }
            })
            .ToList();

    private SiloChild Launch() => _silos.Launch();

    private async Task<(TierControl Tier, BackupControl Backups)> ConnectAsync(SiloChild silo)
    {
        var invoker = await _silos.ConnectAsync(silo);
        var fleet = new LocalFleetOptions(DataDirectory) { Tiers = [TierName], StandbysPerTier = 1 };
        var tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, fleet.SuperuserPasswordFile(TierName));
        try
        {
            await tier.WaitAsync(_ => true, TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException ex)
        {
            // A silo whose gateway never came up: what it was doing is the only clue.
            throw new TimeoutException($"{ex.Message}{Environment.NewLine}the silo's last output:{Environment.NewLine}{silo.LogTail(80)}", ex);
        }
        return (tier, new BackupControl(new BackupService.BackupServiceClient(invoker), TierName, fleet.SuperuserPasswordFile(TierName)));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _silos.DisposeAsync();
        foreach (var pid in BaseBackupProcesses())
        {
            try { System.Diagnostics.Process.GetProcessById(pid).Kill(); }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { }
        }
    }
}
