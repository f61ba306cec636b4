using ControlPlane.Postgres.Upgrades;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Upgrades;

public sealed partial class UpgradeRehearsalGrain
{
    /// <summary>
    /// Runs the rehearsal, persisting each phase as it ends and the outcome at the end, then removes the scratch
    /// instances whatever happened. The runner continues off the activation's scheduler; every state change is posted
    /// back to it (<paramref name="scheduler"/>), so the state is only ever touched by the activation.
    /// </summary>
    private async Task RunAsync(string id, UpgradeMethod method, UpgradeRehearsalRequest request, TaskScheduler scheduler)
    {
        Task OnActivation(Func<Task> change) => Task.Factory.StartNew(change, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap();
        Task OnPhase(RehearsalPhase phase) => OnActivation(() =>
        {
            Set(id, r => r with { Phases = [.. r.Phases, new UpgradePhaseRecord(phase.Name, phase.Duration, phase.Detail)] });
            logger.LogInformation("{Env}/{Tier}: upgrade rehearsal {Id}: {Phase} in {Seconds:0.0}s: {Detail}", _env, _tier, id, phase.Name, phase.Duration.TotalSeconds, phase.Detail);
            return SaveQuietlyAsync();
        });
        try
        {
            UpgradeRehearsalRunner.CreateScratch(request.Scratch);
            var outcome = method switch
            {
                UpgradeMethod.Logical => await runner.RehearseLogicalAsync(request, OnPhase, _stopping.Token),
                UpgradeMethod.Dump => await runner.RehearseDumpAsync(request, OnPhase, _stopping.Token),
                _ => await runner.RehearsePgUpgradeAsync(request, OnPhase, _stopping.Token),
            };
            var passed = outcome.Failure is null && outcome.Counts.All(c => c.Before == c.After) && outcome.Smoke.All(s => s.Passed);
            Set(id, r => r with
            {
                State = passed ? UpgradeRehearsalState.Succeeded : UpgradeRehearsalState.Failed,
                FinishedAt = DateTimeOffset.UtcNow,
                Issues = outcome.Issues,
                Counts = [.. outcome.Counts.Select(c => new UpgradeTableCount(c.Database, c.Table, c.Before, c.After))],
                Smoke = [.. outcome.Smoke.Select(s => new UpgradeSmokeResult(s.Database, s.Query, s.Passed, s.Detail))],
                CutoverWriteGap = outcome.CutoverWriteGap,
                MaxLagBytes = outcome.MaxLagBytes,
                Error = passed ? "" : outcome.Failure ?? "row counts differ or a smoke query failed on the upgraded copy",
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("{Env}/{Tier}: upgrade rehearsal {Id} failed: {Error}", _env, _tier, id, ex.Message);
            Set(id, r => r with
            {
                State = _stopping.IsCancellationRequested ? UpgradeRehearsalState.Interrupted : UpgradeRehearsalState.Failed,
                FinishedAt = DateTimeOffset.UtcNow,
                Error = _stopping.IsCancellationRequested ? Interrupted : ex.Message,
            });
        }
        await SaveQuietlyAsync();
        await CleanUpAsync(id, CancellationToken.None);
    }

    /// <summary>Kills and removes the rehearsal's scratch instances; recorded once done (a failure is logged and retried at the next activation).</summary>
    private async Task CleanUpAsync(string id, CancellationToken ct)
    {
        if (S.Rehearsals.FirstOrDefault(r => r.Id == id) is not { } rehearsal) return;
        try
        {
            await runner.DestroyAsync(new RehearsalScratch(rehearsal.ScratchDirectory), ct);
            Set(id, r => r with { CleanedUp = true });
            await SaveQuietlyAsync();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or TimeoutException)
        {
            logger.LogWarning("{Env}/{Tier}: removing the scratch instances of upgrade rehearsal {Id} in {Directory} failed: {Error}",
                _env, _tier, id, rehearsal.ScratchDirectory, ex.Message);
        }
    }

    /// <summary>A lost compare-and-set means another activation owns the rehearsals now: this one stops its run.</summary>
    private async Task SaveQuietlyAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            logger.LogWarning("{Env}/{Tier}: another activation owns the upgrade rehearsals now; this one stops", _env, _tier);
            await _stopping.CancelAsync();
            DeactivateOnIdle();
        }
    }

    private void Set(string id, Func<UpgradeRehearsal, UpgradeRehearsal> change)
    {
        var i = S.Rehearsals.FindIndex(r => r.Id == id);
        if (i >= 0) S.Rehearsals[i] = change(S.Rehearsals[i]);
    }
}
