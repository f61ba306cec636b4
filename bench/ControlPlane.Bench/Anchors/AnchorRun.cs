using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Common;
using Npgsql;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// Runs the systems one after the other on the same machine and breaks each the same way, measured by the same
/// <see cref="NodeWriter"/>: (a) SIGKILL of the primary's postmaster, (b) SIGSTOP of the primary's postmaster only,
/// (c) short SIGSTOPs of every process of the primary, (d) the primary's agent and PostgreSQL SIGKILLed together,
/// (e) for a system with a consensus store, its leader member and the primary's node together, (f) the primary's
/// data disk filled to the last byte, (g) the primary crashing every few seconds (its checkpointer SIGKILLed, which
/// makes PostgreSQL end every session and restart in place). Before every trial
/// the system must be whole again: exactly one writable node, every other streaming from it, and the system's own
/// view settled.
/// </summary>
public static class AnchorRun
{
    /// <summary>Every process the run starts carries this variable (inherited by PostgreSQL and its backends), so the run can sweep what it started and nothing else.</summary>
    public const string MarkerVariable = "CONTROLPLANE_BENCH_ANCHORS_RUN";
    private const int SigCont = 18;
    private const int SigStop = 19;

    public static async Task<AnchorsResult> RunAsync(AnchorsSettings settings, Func<string, IReadOnlyDictionary<string, string>, IAnchorSystem> create, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(log);
        var marker = new Dictionary<string, string> { [MarkerVariable] = Guid.NewGuid().ToString("N") };
        var machine = MachineInfo.Capture();
        var loadBefore = MachineInfo.LoadAverage();
        var systems = new List<AnchorSystemResult>();
        try
        {
            foreach (var name in settings.Systems)
            {
                systems.Add(await RunSystemAsync(create(name, marker), settings, log, ct));
                // A partial result survives an interrupted or failed later system.
                if (settings.Output is { } file) await File.WriteAllTextAsync(file.FullName, JsonReport.Serialize(new AnchorsResult(machine, loadBefore, MachineInfo.LoadAverage(), systems)) + "\n", CancellationToken.None);
            }
        }
        finally
        {
            var left = ProcessTree.Marked(MarkerVariable, marker[MarkerVariable]);
            foreach (var pid in left) UnixSignals.Send(pid, UnixSignals.SigKill);
            if (left.Count > 0) await log.WriteLineAsync($"swept {left.Count} leftover processes of this run");
        }
        return new AnchorsResult(machine, loadBefore, MachineInfo.LoadAverage(), systems);
    }

    private static async Task<AnchorSystemResult> RunSystemAsync(IAnchorSystem system, AnchorsSettings s, TextWriter log, CancellationToken ct)
    {
        var loadBefore = MachineInfo.LoadAverage();
        var trials = new List<AnchorTrial>();
        AnchorStalls? stalls = null;
        string? error = null;
        var settingsText = system.Name;
        try
        {
            await using (system)
            {
                await log.WriteLineAsync($"== {system.Name}: starting (load {loadBefore})");
                await system.StartAsync(log, ct);
                settingsText = system.Settings;
                var primary = await ReadyAsync(system, s.ReadyTimeout, ct) ?? throw new TimeoutException($"{system.Name} was not whole within {s.ReadyTimeout.TotalSeconds:F0} s of its start");
                await CreateTableAsync(system, primary, ct);
                await log.WriteLineAsync($"{system.Name}: whole, primary {primary.Name}; {system.Settings}");

                if (s.Runs('a')) await TrialsAsync(system, s, "kill-postmaster", freshSessions: false, elsewhere: false, s.FaultTimeout, trials, log, node =>
                {
                    Signal(ProcessTree.Postmaster(node.DataDirectory), UnixSignals.SigKill, node);
                    return Task.FromResult<Func<Task<string?>>?>(() => Task.FromResult<string?>(null));
                }, ct);
                if (s.Runs('b')) await TrialsAsync(system, s, "stop-postmaster", freshSessions: true, elsewhere: false, s.HangTimeout, trials, log, node =>
                {
                    var pm = ProcessTree.Postmaster(node.DataDirectory);
                    Signal(pm, SigStop, node);
                    // Thawed after the trial either way: fenced by then (nothing left to thaw), or never failed over.
                    return Task.FromResult<Func<Task<string?>>?>(() => { UnixSignals.Send(pm!.Value, SigCont); return Task.FromResult<string?>(null); });
                }, ct);
                if (s.Runs('c')) stalls = await StallsAsync(system, s, log, ct);
                var why = system.NodeLossUnsupported;
                if (why is not null && (s.Runs('d') || s.Runs('e')))
                {
                    await log.WriteLineAsync($"{system.Name}: node loss not run here: {why}");
                }
                else if (why is null)
                {
                    if (s.Runs('d')) await TrialsAsync(system, s, "node-loss", freshSessions: false, elsewhere: true, s.FaultTimeout, trials, log, node =>
                    {
                        system.KillNode(node);
                        return Task.FromResult<Func<Task<string?>>?>(async () =>
                        {
                            await system.RestartNodeAsync(node, ct);
                            return null;
                        });
                    }, ct);
                    if (s.Runs('e')) await TrialsAsync(system, s, "consensus-and-node", freshSessions: false, elsewhere: true, s.FaultTimeout, trials, log, async node =>
                    {
                        var member = await system.KillConsensusLeaderAsync(ct);
                        if (member is null) return null;
                        system.KillNode(node);
                        return async () =>
                        {
                            await system.RestartConsensusAsync(ct);
                            await system.RestartNodeAsync(node, ct);
                            return null;
                        };
                    }, ct);
                }
                if (s.Runs('f')) await TrialsAsync(system, s, "disk-full", freshSessions: false, elsewhere: true, s.HangTimeout, trials, log, node =>
                {
                    var disk = SmallDisks.DiskOf(node);
                    var filled = SmallDisks.Fill(disk);
                    // Emptied as soon as writes moved (or the wait ended): the old primary needs room to rejoin.
                    return Task.FromResult<Func<Task<string?>>?>(() =>
                    {
                        SmallDisks.Empty(disk);
                        return Task.FromResult<string?>(string.Create(CultureInfo.InvariantCulture, $"disk filled with {filled / (1024 * 1024)} MiB"));
                    });
                }, ct, fixedWindow: true);
                if (s.Runs('g') && await system.PrepareCrashLoopTrialsAsync(ct) is { } prepared) await log.WriteLineAsync($"{system.Name}: {prepared}");
                if (s.Runs('g')) await TrialsAsync(system, s, "crash-loop", freshSessions: false, elsewhere: true, s.HangTimeout, trials, log, node =>
                {
                    var loop = CrashLoop.Start(node, s.CrashEvery);
                    return Task.FromResult<Func<Task<string?>>?>(async () =>
                    {
                        var crashes = await loop.StopAsync();
                        return $"{crashes} crashes caused, one every {s.CrashEvery.TotalSeconds:0.#} s";
                    });
                }, ct, fixedWindow: true);
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            error = $"{ex.GetType().Name}: {ex.Message}";
            await log.WriteLineAsync($"{system.Name}: {error}");
        }
        return new AnchorSystemResult(system.Name, settingsText, loadBefore, MachineInfo.LoadAverage(), error, trials, stalls);
    }

    /// <summary>
    /// Trials of one fault. <paramref name="fault"/> breaks the primary and returns how to undo what is left (thaw,
    /// restart, empty the disk; with a note for the report), or null when the system has nothing to break that way
    /// (the scenario is then not run). The fault is undone at the first write that counts, or with
    /// <paramref name="fixedWindow"/> only after <paramref name="timeout"/> whatever happened, so every system's
    /// time without writes is measured over the same window (a node that keeps crashing, a disk that stays full).
    /// </summary>
    private static async Task TrialsAsync(IAnchorSystem system, AnchorsSettings s, string scenario, bool freshSessions, bool elsewhere,
        TimeSpan timeout, List<AnchorTrial> into, TextWriter log, Func<AnchorNode, Task<Func<Task<string?>>?>> fault, CancellationToken ct, bool fixedWindow = false)
    {
        await using var writer = NodeWriter.Start(system.Nodes.Select(n => n.Port).ToList(), system.Credentials.User, system.Credentials.Password, freshSessions);
        for (var i = 1; i <= s.Trials; i++)
        {
            var primary = await ReadyAsync(system, s.ReadyTimeout, ct);
            if (primary is null)
            {
                into.Add(new AnchorTrial(system.Name, scenario, i, null, "?", "?", MachineInfo.LoadAverage(), $"not whole again within {s.ReadyTimeout.TotalSeconds:F0} s; trials stopped"));
                await log.WriteLineAsync($"{system.Name} {scenario} #{i}: not whole within {s.ReadyTimeout.TotalSeconds:F0} s; stopping this scenario");
                return;
            }
            // The writer must be writing to the primary before the fault, or the figure would include its own start.
            var warm = Stopwatch.GetTimestamp();
            while (writer.FirstAckSince(warm) is null && Stopwatch.GetElapsedTime(warm) < TimeSpan.FromSeconds(20)) await Task.Delay(20, ct);
            var load = MachineInfo.LoadAverage();
            var t0 = Stopwatch.GetTimestamp();
            var undo = await fault(primary);
            if (undo is null) return;
            NodeAck? ack = null;
            while ((ack is null || fixedWindow) && Stopwatch.GetElapsedTime(t0) < timeout)
            {
                await Task.Delay(5, ct);
                ack ??= writer.FirstAckSince(t0, elsewhere ? primary.Port : null);
            }
            var end = fixedWindow ? Stopwatch.GetTimestamp() : ack?.Acked ?? Stopwatch.GetTimestamp();
            var faultNote = await undo();
            var ms = ack is null ? (double?)null : Stopwatch.GetElapsedTime(t0, ack.Acked).TotalMilliseconds;
            var to = ack is null ? "?" : system.Nodes.First(n => n.Port == ack.Port).Name;
            var note = ack is null ? $"no acknowledged write within {timeout.TotalSeconds:F0} s"
                : ack.Port == primary.Port ? "same node (restarted in place)" : "new primary";
            if (faultNote is not null) note += "; " + faultNote;
            // How long clients could not write while the fault lasted, whichever node took the writes.
            // Measured over the window: up to the first write that counts, or the whole fixed window.
            var unwritable = Unwritable(writer.Between(t0, end).Select(a => a.Acked).ToList(), t0, end, Stopwatch.Frequency / 4);
            note += string.Create(CultureInfo.InvariantCulture, $"; no write acknowledged for {unwritable / (double)Stopwatch.Frequency:F1} s of {(end - t0) / (double)Stopwatch.Frequency:F1} s");
            // Where writes settle once the system is whole again: a primary restarted in place may still be failed over later.
            var settled = await ReadyAsync(system, s.ReadyTimeout, ct);
            var moves = Moves(writer.Between(t0, Stopwatch.GetTimestamp()).Select(a => a.Port).ToList());
            if (writer.AcksOnOlderSessions(t0, primary.Port) is var orphaned and > 0) note += $"; {orphaned} writes acknowledged on {primary.Name} by a session opened before the fault (not counted)";
            note += $"; whole again with primary {settled?.Name ?? "? (not whole)"} after {Stopwatch.GetElapsedTime(t0).TotalSeconds:F0} s, writes moved {moves}×";
            into.Add(new AnchorTrial(system.Name, scenario, i, ms, primary.Name, to, load, note));
            await log.WriteLineAsync($"{system.Name} {scenario} #{i}: {(ms is { } v ? $"{v:F0} ms" : "—")} {primary.Name}->{to} ({note}; load {load})");
        }
    }

    /// <summary>N × SIGSTOP of every process of the writable node for the stall length, 2 s apart; counts the times writes moved to another node.</summary>
    private static async Task<AnchorStalls?> StallsAsync(IAnchorSystem system, AnchorsSettings s, TextWriter log, CancellationToken ct)
    {
        if (s.Stalls == 0) return null;
        var primary = await ReadyAsync(system, s.ReadyTimeout, ct);
        if (primary is null) return new AnchorStalls(system.Name, 0, s.StallLength.TotalSeconds, 0, "not whole before the stalls");
        await using var writer = NodeWriter.Start(system.Nodes.Select(n => n.Port).ToList(), system.Credentials.User, system.Credentials.Password, freshSessions: false);
        var warm = Stopwatch.GetTimestamp();
        while (writer.FirstAckSince(warm) is null && Stopwatch.GetElapsedTime(warm) < TimeSpan.FromSeconds(20)) await Task.Delay(20, ct);
        var t0 = Stopwatch.GetTimestamp();
        for (var i = 0; i < s.Stalls; i++)
        {
            var port = await NodeWriter.FindWritableAsync(system.Nodes.Select(n => n.Port).ToList(), system.Credentials.User, system.Credentials.Password, ct) ?? primary.Port;
            var node = system.Nodes.First(n => n.Port == port);
            var tree = ProcessTree.Postmaster(node.DataDirectory) is { } pm ? ProcessTree.Of(pm) : [];
            foreach (var pid in tree) UnixSignals.Send(pid, SigStop);
            try { await Task.Delay(s.StallLength, CancellationToken.None); }
            finally { foreach (var pid in tree) UnixSignals.Send(pid, SigCont); }
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
        }
        // Time for a failover the last stall started to show.
        await Task.Delay(TimeSpan.FromSeconds(5), ct);
        var failovers = Moves(writer.Between(t0, Stopwatch.GetTimestamp()).Select(a => a.Port).ToList());
        await log.WriteLineAsync($"{system.Name} stalls: {s.Stalls} × {s.StallLength.TotalSeconds:0.#} s, writes moved {failovers} times (load {MachineInfo.LoadAverage()})");
        return new AnchorStalls(system.Name, s.Stalls, s.StallLength.TotalSeconds, failovers, "");
    }

    /// <summary>
    /// Time within [<paramref name="from"/>, <paramref name="to"/>] not covered by acknowledged writes: every gap
    /// longer than <paramref name="gap"/> between two consecutive acknowledgements (or the window's ends), summed.
    /// The writer acknowledges one write about every 10 ms while it can write, so shorter gaps are its own pace.
    /// </summary>
    public static long Unwritable(IReadOnlyList<long> acked, long from, long to, long gap)
    {
        ArgumentNullException.ThrowIfNull(acked);
        var total = 0L;
        var last = from;
        foreach (var at in acked.Where(a => a >= from && a <= to).Order().Append(to))
        {
            if (at - last > gap) total += at - last;
            last = at;
        }
        return total;
    }

    /// <summary>How many times consecutive acknowledged writes came from different nodes.</summary>
    public static int Moves(IReadOnlyList<int> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        return ports.Zip(ports.Skip(1), (a, b) => a != b).Count(moved => moved);
    }

    /// <summary>The primary once the system is whole: exactly one writable node, every other node streaming from it, and the system's own view settled; null on timeout.</summary>
    private static async Task<AnchorNode?> ReadyAsync(IAnchorSystem system, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await WholeAsync(system, ct) is { } primary && await system.SettledAsync(ct)) return primary;
            await Task.Delay(500, ct);
        }
        return null;
    }

    private static async Task<AnchorNode?> WholeAsync(IAnchorSystem system, CancellationToken ct)
    {
        var (user, password) = system.Credentials;
        var writable = new List<AnchorNode>();
        var streaming = 0L;
        foreach (var node in system.Nodes)
        {
            try
            {
                await using var connection = new NpgsqlConnection(NodeWriter.ConnectionString(node.Port, user, password));
                await connection.OpenAsync(ct);
                await using var query = new NpgsqlCommand(
                    "SELECT current_setting('transaction_read_only') = 'off', (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')", connection);
                await using var reader = await query.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                if (reader.GetBoolean(0))
                {
                    writable.Add(node);
                    streaming = reader.GetInt64(1);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                return null;
            }
        }
        return writable.Count == 1 && streaming >= system.Nodes.Count - 1 ? writable[0] : null;
    }

    private static async Task CreateTableAsync(IAnchorSystem system, AnchorNode primary, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(NodeWriter.ConnectionString(primary.Port, system.Credentials.User, system.Credentials.Password));
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(NodeWriter.CreateTableSql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void Signal(int? pid, int signal, AnchorNode node)
    {
        if (pid is null || !UnixSignals.Send(pid.Value, signal)) throw new InvalidOperationException($"no postmaster running for {node.Name} ({node.DataDirectory})");
    }
}
