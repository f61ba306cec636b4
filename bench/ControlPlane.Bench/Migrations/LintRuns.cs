using System.Diagnostics;
using ControlPlane.Migrations.Lint;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;

namespace ControlPlane.Bench.Migrations;

public sealed record LintThroughput(string What, int Rounds, long Statements, double Seconds, double StatementsPerSecond);

public sealed record ExternalRun(string Tool, string Command, int Rounds, double MeanSeconds, double StatementsPerSecond, int ExitCode);

public sealed record LintBenchResult(
    int Files, int Statements, int Findings, int ParserInstances, IReadOnlyList<LintThroughput> InProcess, IReadOnlyList<ExternalRun> Processes, string? SquawkRatio)
{
    public string Render()
    {
        var lines = new List<string> { $"corpus: {Files} files, {Statements} statements, {Findings} findings per lint" };
        lines.AddRange(InProcess.Select(r => $"{r.What,-44} {r.StatementsPerSecond,10:0} statements/s  ({r.Statements} in {r.Seconds:0.00} s, {r.Rounds} rounds)"));
        lines.AddRange(Processes.Select(p => $"{p.Tool + " (process, cold)",-44} {p.StatementsPerSecond,10:0} statements/s  (mean {p.MeanSeconds:0.000} s per run of the corpus, {p.Rounds} runs, exit {p.ExitCode}): {p.Command}"));
        if (SquawkRatio is not null)
        {
            lines.Add(SquawkRatio);
        }
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Parse and lint throughput over a corpus, and the same corpus through external processes. Measures only.</summary>
public static class LintRuns
{
    public static async Task<LintBenchResult> RunAsync(int files, int statementsPerFile, TimeSpan duration, string? squawk, string? cpctl, int processRounds, CancellationToken ct)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"cp-bench-lint-{Environment.ProcessId}");
        try
        {
            var (statements, _) = LintCorpus.Write(directory, files, statementsPerFile);
            var texts = Directory.EnumerateFiles(directory, "*.sql").Select(File.ReadAllText).ToArray();
            var sources = Directory.EnumerateFiles(directory, "*.sql")
                .Select(p => new MigrationSource(Path.GetFileName(p), File.ReadAllBytes(p))).ToArray();
            var parser = SqlParser.Shared;

            // Warm-up: compiles the module, fills the pool, JITs the rules.
            var findings = MigrationLinter.Lint(ParsedMigrationSet.Parse(MigrationSetLoader.FromFiles(sources), parser)).Findings.Count;
            var inProcess = new List<LintThroughput>
            {
                Measure("parse (1 thread)", statements, duration, () =>
                {
                    foreach (var text in texts) parser.Parse(text);
                }),
                Measure($"parse ({Environment.ProcessorCount} threads, pooled instances)", statements, duration, () =>
                    Parallel.ForEach(texts, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, text => parser.Parse(text))),
                Measure("load + parse + lint (1 thread)", statements, duration, () =>
                    MigrationLinter.Lint(ParsedMigrationSet.Parse(MigrationSetLoader.FromFiles(sources), parser))),
            };

            var processes = new List<ExternalRun>();
            if (cpctl is not null)
            {
                processes.Add(await TimeProcessAsync("cpctl change lint", cpctl, ["change", "lint", directory], statements, processRounds, ct));
            }
            string? ratio = null;
            if (squawk is not null)
            {
                var files_ = Directory.EnumerateFiles(directory, "*.sql").Order(StringComparer.Ordinal).ToArray();
                var run = await TimeProcessAsync("squawk 2.66.0", squawk, files_, statements, processRounds, ct);
                processes.Add(run);
                var ours = processes.FirstOrDefault(p => p.Tool.StartsWith("cpctl", StringComparison.Ordinal));
                var lint = inProcess[^1];
                ratio = $"squawk/ours: {run.StatementsPerSecond / lint.StatementsPerSecond:0.00}x vs in-process lint"
                    + (ours is null ? "" : $", {run.StatementsPerSecond / ours.StatementsPerSecond:0.00}x vs cold cpctl process");
            }
            return new LintBenchResult(files, statements, findings, Environment.ProcessorCount, inProcess, processes, ratio);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    private static LintThroughput Measure(string what, int statementsPerRound, TimeSpan duration, Action round)
    {
        var rounds = 0;
        var watch = Stopwatch.StartNew();
        do
        {
            round();
            rounds++;
        }
        while (watch.Elapsed < duration);
        var seconds = watch.Elapsed.TotalSeconds;
        long statements = (long)statementsPerRound * rounds;
        return new LintThroughput(what, rounds, statements, seconds, statements / seconds);
    }

    private static async Task<ExternalRun> TimeProcessAsync(string tool, string executable, IReadOnlyList<string> args, int statements, int rounds, CancellationToken ct)
    {
        var exit = 0;
        var total = TimeSpan.Zero;
        for (var i = 0; i <= rounds; i++)
        {
            var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args) start.ArgumentList.Add(arg);
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {executable}");
            var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(ct), process.StandardError.ReadToEndAsync(ct));
            await process.WaitForExitAsync(ct);
            await drain;
            // The first run warms the page cache and is not counted.
            if (i > 0) total += watch.Elapsed;
            exit = process.ExitCode;
        }
        var mean = total.TotalSeconds / rounds;
        return new ExternalRun(tool, $"{Path.GetFileName(executable)} {(args.Count > 3 ? $"<{args.Count} files>" : string.Join(' ', args))}", rounds, mean, statements / mean, exit);
    }
}
