using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// Scenario (g): the node's PostgreSQL crashes every <c>interval</c> until stopped. Each crash is a SIGKILL of the
/// checkpointer, which PostgreSQL treats like any crashed child: it ends every session and restarts in place
/// (<c>restart_after_crash</c>, on by default), as it would for a backend dying on a bad extension or an
/// out-of-memory kill. The postmaster is read from <c>postmaster.pid</c> before each crash, so a system that
/// restarts PostgreSQL itself is crashed again under its new postmaster; a node with no postmaster is left alone.
/// The loop crashes the primary: it ends once the node is a standby (<c>standby.signal</c> in its data directory,
/// after a failover rejoined it), as a host that keeps crashing is no longer a primary's once it was replaced.
/// </summary>
public sealed class CrashLoop
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _crashes;

    private CrashLoop(AnchorNode node, TimeSpan interval) => _loop = Task.Run(() => RunAsync(node, interval));

    public static CrashLoop Start(AnchorNode node, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new CrashLoop(node, interval);
    }

    /// <summary>Stops crashing the node; returns how many crashes it caused.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        return _crashes;
    }

    private async Task RunAsync(AnchorNode node, TimeSpan interval)
    {
        while (!_stop.IsCancellationRequested && !File.Exists(Path.Combine(node.DataDirectory, "standby.signal")))
        {
            if (ProcessTree.Postmaster(node.DataDirectory) is { } postmaster
                && ProcessTree.ChildTitled(postmaster, "checkpointer") is { } checkpointer
                && UnixSignals.Send(checkpointer, UnixSignals.SigKill))
            {
                _crashes++;
            }
            try { await Task.Delay(interval, _stop.Token); }
            catch (OperationCanceledException) { break; }
        }
    }
}
