using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Upgrades;

public sealed partial class UpgradeRehearsalRunner
{
    /// <summary>Unix socket paths are limited to 107 bytes; past this the sockets go to a short private directory.</summary>
    private const int SocketDirectoryLimit = 80;

    /// <summary>
    /// The in-place path, rehearsed on copies: the restored source is counted and stopped cleanly, a target cluster is
    /// initialised (same superuser, encoding, locale and checksums as the fleet's), <c>pg_upgrade --check</c> reports
    /// what would stop a real upgrade, then <c>pg_upgrade --link</c> upgrades the copy and the upgraded cluster is
    /// started on its own port. Both run as the postgres user (when root) in a scratch working directory; pg_upgrade
    /// starts both clusters itself on free ports, reachable only through sockets in that directory (0700), so for the
    /// run each copy's pg_hba.conf admits the superuser over the socket too. The write gap is what a real upgrade by
    /// this method would be offline: stopping the source, the linking run and starting the upgraded cluster.
    /// </summary>
    public async Task<RehearsalOutcome> RehearsePgUpgradeAsync(UpgradeRehearsalRequest request, Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onPhase);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(request.Timeout);
        ct = deadline.Token;
        var issues = new List<string>();
        var source = await RestoreSourceAsync(request, [], onPhase, ct).ConfigureAwait(false);
        var databases = await UpgradeSql.DatabasesAsync(source, ct).ConfigureAwait(false);

        var watch = Stopwatch.StartNew();
        var before = await CountAllAsync(source, databases, ct).ConfigureAwait(false);
        await onPhase(new RehearsalPhase("source counts", watch.Elapsed,
            $"{before.Values.Sum(t => t.Count)} table(s) of {databases.Count} database(s) counted on the restored source")).ConfigureAwait(false);

        var target = await InitTargetAsync(request, onPhase, ct).ConfigureAwait(false);
        await TargetDriver(request, target.Port).StopAsync(StopMode.Fast, ct).ConfigureAwait(false);

        watch.Restart();
        var run = await PrepareRunAsync(request, ct).ConfigureAwait(false);
        await SourceDriver(request, source.Port, []).StopAsync(StopMode.Fast, ct).ConfigureAwait(false);
        var stopped = watch.Elapsed;

        watch.Restart();
        var check = await PgUpgradeAsync(request, run, ["--check"], ct).ConfigureAwait(false);
        var report = PgUpgradeCheckReport.Parse(check.StandardOutput);
        issues.AddRange(report.Findings.Select(f => $"pg_upgrade --check: {f}"));
        await onPhase(new RehearsalPhase("check", watch.Elapsed, check.Succeeded
            ? $"pg_upgrade --check: {report.Passed} checks passed, {report.Findings.Count} finding(s){(report.Compatible ? ", clusters are compatible" : "")}"
            : $"pg_upgrade --check failed (exit {check.ExitCode}): {report.Findings.Count} incompatibilit(ies)")).ConfigureAwait(false);
        if (!check.Succeeded)
        {
            if (report.Findings.Count == 0) issues.Add($"pg_upgrade --check: {PgClientTool.Tail(Said(check))}");
            return new RehearsalOutcome(issues, [], [], null, null)
            {
                Failure = $"pg_upgrade --check found the clusters incompatible ({report.Findings.Count} finding(s)); the copy was not upgraded",
            };
        }

        watch.Restart();
        var jobs = request.Jobs.ToString(CultureInfo.InvariantCulture);
        var linked = await PgUpgradeAsync(request, run, ["--link", "-j", jobs], ct).ConfigureAwait(false);
        if (!linked.Succeeded)
            throw new ProcessFailedException($"pg_upgrade --link exited with {linked.ExitCode}: {PgClientTool.Tail(Said(linked))}");
        var link = watch.Elapsed;
        foreach (var script in Directory.EnumerateFiles(run.WorkingDirectory, "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            issues.Add($"pg_upgrade wrote {script}: run it on the upgraded cluster (an extension or object needs attention after the upgrade)");
        }
        await onPhase(new RehearsalPhase("upgrade", link,
            $"pg_upgrade --link of {databases.Count} database(s) with {jobs} jobs, PostgreSQL {request.ClientTools.Major} ({request.ClientTools.BinDirectory}) to {request.Target.Major} ({request.Target.BinDirectory})")).ConfigureAwait(false);

        watch.Restart();
        var upgraded = TargetDriver(request, FreePort.Pick());
        await upgraded.StartAsync(ct).ConfigureAwait(false);
        var endpoint = target with { Port = upgraded.Port };
        var version = await UpgradeSql.ServerVersionAsync(endpoint, ct).ConfigureAwait(false);
        var started = watch.Elapsed;
        await onPhase(new RehearsalPhase("start", started, $"upgraded cluster (PostgreSQL {version}) started on port {upgraded.Port}; the source copy is unusable after --link")).ConfigureAwait(false);

        var counts = await CompareCountsAsync(before, endpoint, databases, issues, onPhase, ct).ConfigureAwait(false);
        var smoke = await SmokeAsync(request, endpoint, databases, onPhase, ct).ConfigureAwait(false);
        return new RehearsalOutcome(issues, counts, smoke, stopped + link + started, null);
    }

    /// <summary>Where pg_upgrade runs: its working directory and socket directory (the postgres user's), and a passfile for the superuser.</summary>
    private sealed record PgUpgradeRun(string WorkingDirectory, string SocketDirectory, string PassFile, int OldPort, int NewPort);

    /// <summary>
    /// The working directory and socket directory for pg_upgrade, the superuser's passfile in it, and a local (socket)
    /// line for the superuser in both copies' pg_hba.conf (their own files; the control plane rewrites pg_hba.conf at
    /// every start, so the upgraded cluster is back to TCP over TLS only once it runs).
    /// </summary>
    private async Task<PgUpgradeRun> PrepareRunAsync(UpgradeRehearsalRequest request, CancellationToken ct)
    {
        var work = Path.Combine(request.Scratch.Work, "pg_upgrade");
        UnixFile.CreateDirectory(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await OsUser.GiveToPostgresAsync(work, recursive: false, ct).ConfigureAwait(false);
        await OsUser.EnsureAncestorsTraversableAsync(work, logger, ct).ConfigureAwait(false);
        var sockets = work;
        if (work.Length > SocketDirectoryLimit)
        {
            sockets = Directory.CreateTempSubdirectory(RehearsalScratch.SocketsPrefix).FullName;
            // Noted in the scratch, so that its removal (also after a crash) takes the directory along.
            await File.WriteAllTextAsync(request.Scratch.SocketsNote, sockets, ct).ConfigureAwait(false);
            await OsUser.GiveToPostgresAsync(sockets, recursive: false, ct).ConfigureAwait(false);
        }
        var credentials = request.Restore.Credentials;
        var passFile = Path.Combine(work, "superuser.pgpass");
        await SecretFile.WriteForPostgresAsync(passFile, SecretFile.PgPassLine(credentials.User, SecretFile.Read(credentials.PasswordFile)), ct).ConfigureAwait(false);
        foreach (var data in new[] { request.Scratch.SourceData, request.Scratch.TargetData })
        {
            var hba = Path.Combine(data, "pg_hba.conf");
            var lines = $"# pg_upgrade rehearsal: the superuser over pg_upgrade's private socket.\nlocal all {credentials.User} scram-sha-256\n{await File.ReadAllTextAsync(hba, ct).ConfigureAwait(false)}";
            await OsUser.WriteFileAsync(hba, lines, (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
        }
        return new PgUpgradeRun(work, sockets, passFile, FreePort.Pick(), FreePort.Pick());
    }

    /// <summary>pg_upgrade of the target installation with the old (source) and new bin and data directories; the exit code is the caller's to judge.</summary>
    private static Task<ProcessResult> PgUpgradeAsync(UpgradeRehearsalRequest request, PgUpgradeRun run, IReadOnlyList<string> mode, CancellationToken ct)
    {
        List<string> args =
        [
            "-b", request.ClientTools.BinDirectory, "-B", request.Target.BinDirectory,
            "-d", request.Scratch.SourceData, "-D", request.Scratch.TargetData,
            "-p", run.OldPort.ToString(CultureInfo.InvariantCulture), "-P", run.NewPort.ToString(CultureInfo.InvariantCulture),
            "-U", request.Restore.Credentials.User, "-s", run.SocketDirectory,
            .. mode,
        ];
        var spec = new ProcessSpec(request.Target.Tool("pg_upgrade"), args)
        {
            AsPostgres = true,
            Timeout = request.Timeout,
            WorkingDirectory = run.WorkingDirectory,
            Environment = new Dictionary<string, string> { ["PGPASSFILE"] = run.PassFile },
        };
        return ProcessRunner.RunAsync(spec, ct);
    }

    private LocalInstanceDriver TargetDriver(UpgradeRehearsalRequest request, int port) =>
        new(new LocalInstanceOptions(request.Restore.Credentials.Tier, TargetName, request.Scratch.TargetData, port, request.Restore.Credentials.PasswordFile, null),
            logger, new PgBinaries(request.Target.BinDirectory));

    /// <summary>pg_upgrade reports on standard output; standard error only for what stopped it early.</summary>
    private static string Said(ProcessResult result) =>
        (result.StandardOutput.Trim() + "\n" + result.StandardError.Trim()).Trim();
}
