using System.Diagnostics;
using ControlPlane.Postgres.Failover;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Fencing and whole-instance signals. A postmaster alone is not the instance: after a SIGKILL of the postmaster
/// its backends live on for a moment (holding shared memory, possibly finishing a commit), and a SIGSTOP of the
/// postmaster alone leaves existing sessions writing. These act on every process of the data directory
/// (<see cref="InstanceProcesses"/>), freezing the postmaster first so it forks nothing new in between.
/// </summary>
public sealed partial class LocalInstanceDriver
{
    private static readonly TimeSpan FenceWait = TimeSpan.FromSeconds(10);

    /// <summary>Every live process of this instance, postmaster first (orphans of a killed postmaster included).</summary>
    public IReadOnlyList<InstanceProcess> Processes() => InstanceProcesses.Find(DataDirectory, PostmasterPid());

    /// <summary>
    /// Makes the instance unable to accept writes now, even when it is hung: SIGKILL to the postmaster and every
    /// process of the instance, then waits (bounded) until none is left (a zombie counts as gone). Idempotent; a
    /// no-op when nothing runs. The data directory is left as a crash leaves it (rejoin rewinds it).
    /// </summary>
    public async Task FenceAsync(CancellationToken ct)
    {
        var victims = FreezePostmasterAndList();
        if (victims.Count == 0)
        {
            logger.LogInformation("Fence of {Tier}/{Replica}: no process runs", Tier, Name);
            return;
        }
        logger.LogWarning("Fencing {Tier}/{Replica}: SIGKILL to {Count} processes (first {Pid})", Tier, Name, victims.Count, victims[0].Pid);
        var watch = Stopwatch.StartNew();
        var limit = DateTime.UtcNow + FenceWait;
        while (true)
        {
            foreach (var v in victims) InstanceProcesses.Signal(v.Pid, InstanceSignal.Kill);
            while (!victims.All(InstanceProcesses.HasExited) && DateTime.UtcNow < limit) await Task.Delay(10, ct).ConfigureAwait(false);
            // Rescan: catches a process forked between the scan and the kill, and any survivor.
            victims = Processes();
            if (victims.Count == 0) break;
            if (DateTime.UtcNow >= limit)
            {
                throw new TimeoutException(
                    $"{Tier}/{Name} still has {victims.Count} processes ({string.Join(", ", victims.Select(v => $"{v.Pid}:{v.State}"))}) {FenceWait.TotalSeconds:0}s after SIGKILL.");
            }
        }
        logger.LogWarning("Fenced {Tier}/{Replica}: no process left after {Elapsed} ms", Tier, Name, watch.ElapsedMilliseconds);
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the postmaster and every other process of the instance: SIGSTOP freezes
    /// the whole instance (a hung primary, for chaos tests), SIGCONT thaws it, SIGKILL crashes it (not waited for;
    /// see <see cref="FenceAsync"/>). Throws when no process of the instance runs.
    /// </summary>
    public Task SignalAllAsync(InstanceSignal signal, CancellationToken ct)
    {
        var all = signal == InstanceSignal.Continue ? Processes() : FreezePostmasterAndList();
        if (all.Count == 0) throw new InvalidOperationException($"{Tier}/{Name} has no running process in '{DataDirectory}' to send SIG{SignalName(signal)} to.");
        logger.LogWarning("Sending SIG{Signal} to {Tier}/{Replica}: {Count} processes (first {Pid})", SignalName(signal), Tier, Name, all.Count, all[0].Pid);
        // Thaw the children before the postmaster, so it does not see a half-frozen instance.
        foreach (var p in signal == InstanceSignal.Continue ? all.Reverse() : all) InstanceProcesses.Signal(p.Pid, signal);
        return Task.CompletedTask;
    }

    /// <summary>True when the postmaster is stopped by SIGSTOP (a hung instance: a clean stop would hang too).</summary>
    public bool IsFrozen() => Processes() is [var first, ..] && first.Pid == PostmasterPid() && first.IsFrozen;

    private IReadOnlyList<InstanceProcess> FreezePostmasterAndList()
    {
        var first = Processes();
        if (first.Count == 0 || first[0].Pid != PostmasterPid()) return first;
        InstanceProcesses.Signal(first[0].Pid, InstanceSignal.Stop);
        return Processes();
    }

    private static string SignalName(InstanceSignal signal) => signal switch
    {
        InstanceSignal.Kill => "KILL",
        InstanceSignal.Stop => "STOP",
        _ => "CONT",
    };
}
