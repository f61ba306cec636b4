using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using ControlPlane.Postgres.Upgrades;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Upgrades;

/// <summary>
/// Rehearses major upgrades of one tier. It gathers the facts (the tier's version from its primary's last probe, the
/// installations of this host, the newest verified backup), asks <see cref="UpgradeMethodPolicy"/>, persists the
/// rehearsal as Running with its scratch directory, and only then restores and upgrades. A rehearsal found Running by
/// a new activation was cut short by a stop of the control plane: it is marked interrupted and its scratch instances
/// are killed and removed.
/// </summary>
public sealed partial class UpgradeRehearsalGrain(
    [PersistentState("upgrades", FleetKeys.Storage)] IPersistentState<UpgradeRehearsalsState> state,
    IOptions<UpgradeOptions> options,
    UpgradeRehearsalRunner runner,
    ILogger<UpgradeRehearsalGrain> logger) : Grain, IUpgradeRehearsalGrain
{
    private const int Kept = 50;
    private const string Interrupted = "interrupted: the control plane stopped while the rehearsal ran";
    private readonly UpgradeOptions _options = options.Value;
    private readonly CancellationTokenSource _stopping = new();
    private string _env = "";
    private string _tier = "";

    private UpgradeRehearsalsState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        (_env, _tier) = (key[..slash], key[(slash + 1)..]);
        var now = DateTimeOffset.UtcNow;
        var cut = 0;
        for (var i = 0; i < S.Rehearsals.Count; i++)
        {
            if (S.Rehearsals[i].State != UpgradeRehearsalState.Running) continue;
            S.Rehearsals[i] = S.Rehearsals[i] with { State = UpgradeRehearsalState.Interrupted, FinishedAt = now, Error = Interrupted };
            cut++;
        }
        if (cut > 0)
        {
            await state.WriteStateAsync(cancellationToken);
            logger.LogWarning("{Env}/{Tier}: {Count} upgrade rehearsal(s) were interrupted by a stop of the control plane; removing their scratch instances", _env, _tier, cut);
        }
        foreach (var rehearsal in S.Rehearsals.Where(r => !r.CleanedUp && r.State != UpgradeRehearsalState.Running).ToList())
        {
            await CleanUpAsync(rehearsal.Id, cancellationToken);
        }
        await RemoveUnrecordedScratchAsync(cancellationToken);
    }

    /// <summary>
    /// Scratch directories of this tier that no kept record names (trimmed past the last <see cref="Kept"/>, or state
    /// lost): nothing runs in a new activation, so they are leftovers too. A directory without the rehearsal marker is
    /// left alone (the runner refuses it).
    /// </summary>
    private async Task RemoveUnrecordedScratchAsync(CancellationToken ct)
    {
        var tierScratch = Path.Combine(_options.ScratchDirectory, _env, _tier);
        if (!Directory.Exists(tierScratch)) return;
        foreach (var directory in Directory.GetDirectories(tierScratch).Where(d => S.Rehearsals.All(r => r.ScratchDirectory != d)))
        {
            try
            {
                await runner.DestroyAsync(new RehearsalScratch(directory), ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning("{Env}/{Tier}: leaving the unrecorded upgrade scratch {Directory}: {Error}", _env, _tier, directory, ex.Message);
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await _stopping.CancelAsync();

    public Task<UpgradeRehearsal?> Get(string rehearsalId) => Task.FromResult(S.Rehearsals.FirstOrDefault(r => r.Id == rehearsalId));

    public Task<IReadOnlyList<UpgradeRehearsal>> List(int limit) =>
        Task.FromResult<IReadOnlyList<UpgradeRehearsal>>([.. S.Rehearsals.TakeLast(Math.Clamp(limit, 1, Kept))]);

    public async Task<(int SourceMajor, IReadOnlyList<UpgradeTarget> Targets)> ListTargets()
    {
        var source = await SourceMajorAsync();
        var installations = PgInstallations.Discover(_options.ConfiguredMajors());
        var targets = installations.Where(i => i.Major > source)
            .Select(i => new UpgradeTarget(i.Major, i.BinDirectory, i.Origin, [.. i.Tools.Order(StringComparer.Ordinal)],
                [.. UpgradeMethodPolicy.Evaluate(source, i.Major, installations).Select(v => new UpgradeMethodOption(v.Method, v.Possible, v.Reason))]))
            .ToList();
        return (source, targets);
    }

    public async Task<UpgradeRehearsal> Rehearse(int targetMajor, UpgradeMethod method, string principal)
    {
        if (!Enum.IsDefined(method)) throw new ArgumentException($"method {(int)method} is not an upgrade method; expected logical, dump or pg_upgrade.", nameof(method));
        if (targetMajor is < 10 or > 99) throw new ArgumentException($"target version {targetMajor} is not a PostgreSQL major version; expected 10 to 99.", nameof(targetMajor));
        if (S.Rehearsals.FirstOrDefault(r => r.State == UpgradeRehearsalState.Running) is { } running)
            throw new TierConflictException($"upgrade rehearsal {running.Id} of {_env}/{_tier} is still running; wait for it to finish.");

        var sourceMajor = await SourceMajorAsync();
        var installations = PgInstallations.Discover(_options.ConfiguredMajors());
        var verdict = UpgradeMethodPolicy.Evaluate(method, sourceMajor, targetMajor, installations);
        if (!verdict.Possible)
        {
            var why = verdict.Reason.StartsWith("not possible", StringComparison.Ordinal) ? verdict.Reason : "not possible: " + verdict.Reason;
            throw new TierConflictException($"{UpgradeNames.Of(method)} upgrade of {_env}/{_tier} to {targetMajor}: {why}.");
        }

        var backups = await GrainFactory.GetGrain<IBackupGrain>(FleetKeys.Tier(_env, _tier)).ListBackups();
        var backup = backups.Where(b => b.Restorable && b.Verified).MaxBy(b => b.StopLsn)
            ?? throw new TierConflictException($"{_env}/{_tier} has no verified backup to rehearse on; take one first (cpctl backup {_tier}).");

        var id = $"u{++S.Sequence}";
        var scratch = new RehearsalScratch(Path.Combine(_options.ScratchDirectory, _env, _tier, id));
        var rehearsal = new UpgradeRehearsal(id, _env, _tier, method, sourceMajor, targetMajor, backup.Id, UpgradeRehearsalState.Running,
            DateTimeOffset.UtcNow, null, principal, scratch.Root, verdict.Reason);
        S.Rehearsals.Add(rehearsal);
        if (S.Rehearsals.Count > Kept) S.Rehearsals.RemoveRange(0, S.Rehearsals.Count - Kept);
        // Persisted before anything exists on disk: a crash from here on leaves a Running record to clean up after.
        await state.WriteStateAsync();
        logger.LogWarning("{Env}/{Tier}: upgrade rehearsal {Id} ({Method} {Source} -> {Target}) from backup {Backup} started by {Principal}",
            _env, _tier, id, UpgradeNames.Of(method), sourceMajor, targetMajor, backup.Id, principal);

        var request = await RequestAsync(backup, scratch, verdict);
        // The rehearsal outlives this call; the grain stays active while it runs and its updates return to this activation.
        DelayDeactivation(_options.Timeout + TimeSpan.FromMinutes(5));
        var scheduler = TaskScheduler.Current;
        _ = RunAsync(id, method, request, scheduler);
        return rehearsal;
    }

    private async Task<UpgradeRehearsalRequest> RequestAsync(BackupRecord backup, RehearsalScratch scratch, MethodVerdict verdict)
    {
        var backups = GrainFactory.GetGrain<IBackupGrain>(FleetKeys.Tier(_env, _tier));
        var (backupDirectory, walDirectory) = BackupLocation.Find(backup, await backups.GetPolicy(), _env, _tier);
        var spec = await GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(_env, _tier)).GetSpec()
            ?? throw new TierConflictException($"tier {_env}/{_tier} is not registered.");
        var target = backup.RestorePoint.Length > 0 ? new RecoveryTarget(RecoveryTargetKind.RestorePoint, Name: backup.RestorePoint) : RecoveryTarget.Immediate;
        var restore = new RestoreRequest(backupDirectory, walDirectory, scratch.SourceData, FreePort.Pick(), ReplicaGrain.Endpoint(spec.Replicas[0]), target);
        return new UpgradeRehearsalRequest(restore, scratch, verdict.Server!, verdict.ClientTools!,
            _options.SmokeQueries.TryGetValue(_tier, out var smoke) ? smoke : [])
        {
            Jobs = _options.Jobs,
            CatchUpWrites = _options.CatchUpWrites,
            Timeout = _options.Timeout,
        };
    }

    private async Task<int> SourceMajorAsync()
    {
        var snapshot = await GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(_env, _tier)).GetSnapshot();
        var primary = snapshot?.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary);
        return PgInstallations.MajorOf(primary?.ServerVersion);
    }
}
