using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Backups;

namespace ControlPlane.Postgres.Upgrades;

public sealed partial class UpgradeRehearsalRunner
{
    /// <summary>
    /// The offline path, rehearsed: roles, then per database pg_dump (directory format, parallel jobs) of the
    /// restored source and pg_restore (parallel jobs) into the target. The whole copy is the write gap a real
    /// upgrade by this method would have; sequences travel inside the dump.
    /// </summary>
    public async Task<RehearsalOutcome> RehearseDumpAsync(UpgradeRehearsalRequest request, Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onPhase);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(request.Timeout);
        ct = deadline.Token;
        var issues = new List<string>();
        var source = await RestoreSourceAsync(request, [], onPhase, ct).ConfigureAwait(false);
        var target = await InitTargetAsync(request, onPhase, ct).ConfigureAwait(false);
        var databases = await UpgradeSql.DatabasesAsync(source, ct).ConfigureAwait(false);
        var offline = Stopwatch.StartNew();

        var watch = Stopwatch.StartNew();
        await PrepareTargetAsync(request, source, target, databases, issues, ct).ConfigureAwait(false);
        await onPhase(new RehearsalPhase("roles", watch.Elapsed, $"roles and {databases.Count} database(s) created on the target")).ConfigureAwait(false);

        var jobs = request.Jobs.ToString(CultureInfo.InvariantCulture);
        watch.Restart();
        long bytes = 0;
        for (var i = 0; i < databases.Count; i++)
        {
            var directory = Path.Combine(request.Scratch.Work, $"dump-{i}");
            await PgClientTool.RunCheckedAsync(request.ClientTools.Tool("pg_dump"), source, ["-Fd", "-j", jobs, "-f", directory, "-d", databases[i]], false, request.Timeout, ct).ConfigureAwait(false);
            bytes += Directory.EnumerateFiles(directory).Sum(f => new FileInfo(f).Length);
        }
        await onPhase(new RehearsalPhase("dump", watch.Elapsed, $"{databases.Count} database(s), {bytes} bytes, {jobs} jobs, PostgreSQL {request.ClientTools.Major} pg_dump")).ConfigureAwait(false);

        watch.Restart();
        for (var i = 0; i < databases.Count; i++)
        {
            var restored = await PgClientTool.RunAsync(request.ClientTools.Tool("pg_restore"), target,
                ["-j", jobs, "-d", databases[i], Path.Combine(request.Scratch.Work, $"dump-{i}")], false, request.Timeout, ct).ConfigureAwait(false);
            issues.AddRange(Errors(restored.StandardError, $"restore of {databases[i]}"));
        }
        await onPhase(new RehearsalPhase("load", watch.Elapsed, $"pg_restore of {databases.Count} database(s) into the target, {jobs} jobs")).ConfigureAwait(false);
        var gap = offline.Elapsed;

        var counts = await CompareCountsAsync(source, target, databases, issues, onPhase, ct).ConfigureAwait(false);
        var smoke = await SmokeAsync(request, target, databases, onPhase, ct).ConfigureAwait(false);
        return new RehearsalOutcome(issues, counts, smoke, gap, null);
    }
}
