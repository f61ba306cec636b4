using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Verify;

/// <summary>
/// The write load of <c>cpctl verify</c> run by <c>pgbench</c>, the tool an SRE would reach for: the same one-row
/// INSERT as the built-in driver, as a custom script, with a per-transaction log (<c>--log</c>) so the percentiles come
/// from every transaction pgbench timed, not from its averages. The password reaches pgbench through a passfile.
/// </summary>
internal static class PgbenchLoad
{
    private const string Script = "INSERT INTO controlplane_verify.write_load (client, payload) VALUES (:client_id, repeat('x', 100));\n";

    public static async Task<WriteLoadResult> RunAsync(string pgbench, ReplicaEndpoint primary, TimeSpan duration, int clients, CancellationToken ct)
    {
        var directory = Directory.CreateTempSubdirectory("cp-pgbench-").FullName;
        try
        {
            var script = Path.Combine(directory, "write-load.sql");
            await File.WriteAllTextAsync(script, Script, ct).ConfigureAwait(false);
            var seconds = (int)Math.Max(1, Math.Ceiling(duration.TotalSeconds));
            var jobs = Math.Min(clients, Math.Max(1, Environment.ProcessorCount));
            string[] arguments =
            [
                "--no-vacuum", "--client", Invariant(clients), "--jobs", Invariant(jobs), "--time", Invariant(seconds),
                "--file", script, "--log", "--log-prefix", Path.Combine(directory, "txn"), primary.Database,
            ];
            var result = await PgClientTool.RunAsync(pgbench, primary, arguments, asPostgres: false,
                TimeSpan.FromSeconds(seconds) + TimeSpan.FromMinutes(2), ct, neverPrompt: false, workingDirectory: directory).ConfigureAwait(false);
            var log = PgbenchLog.Read(Directory.EnumerateFiles(directory, "txn.*").SelectMany(File.ReadLines));
            var errors = log.Failed + PgbenchLog.AbortedClients(result.StandardError);
            var firstError = result.Succeeded && errors == 0 ? "" : PgbenchLog.FirstError(result.StandardError, result.ExitCode);
            return new WriteLoadResult("pgbench", log.LatenciesMs.Count, errors, log.Elapsed, LatencySummary.Of(log.LatenciesMs), firstError);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// What a pgbench per-transaction log says, pure. Each line is <c>client transaction latency_us script epoch_s
/// epoch_us …</c>; latency is a number for a committed transaction, <c>failed</c> for one that ended in a
/// serialization or deadlock failure, <c>skipped</c> under a rate limit.
/// </summary>
public sealed record PgbenchLog(IReadOnlyList<double> LatenciesMs, long Failed, TimeSpan Elapsed)
{
    public static PgbenchLog Read(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var latencies = new List<double>();
        long failed = 0;
        double first = double.MaxValue, last = double.MinValue;
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6) continue;
            if (fields[2] == "failed") failed++;
            else if (double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var micros)) latencies.Add(micros / 1000);
            else continue;
            if (long.TryParse(fields[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch)
                && long.TryParse(fields[5], NumberStyles.Integer, CultureInfo.InvariantCulture, out var us))
            {
                // The stamp is the transaction's end; its start is the stamp less its latency.
                var end = epoch + us / 1e6;
                var start = end - (double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m / 1e6 : 0);
                first = Math.Min(first, start);
                last = Math.Max(last, end);
            }
        }
        return new PgbenchLog(latencies, failed, last > first ? TimeSpan.FromSeconds(last - first) : TimeSpan.Zero);
    }

    /// <summary>Clients pgbench gave up on after an error it does not retry ("client 3 aborted in command 0 …").</summary>
    public static int AbortedClients(string standardError) =>
        (standardError ?? "").Split('\n').Count(l => l.Contains(" aborted in command ", StringComparison.Ordinal));

    /// <summary>The line that says what went wrong, for the report; the exit code when pgbench said nothing.</summary>
    public static string FirstError(string standardError, int exitCode)
    {
        var lines = (standardError ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("error", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.Contains("aborted", StringComparison.Ordinal))
            ?? (exitCode != 0 ? $"pgbench exited with {exitCode}" : "");
    }
}
