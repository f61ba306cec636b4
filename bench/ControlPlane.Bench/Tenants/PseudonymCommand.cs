using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ControlPlane.Bench.Common;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Bench.Tenants;

/// <summary>
/// <c>pseudonyms</c>: for each PII kind, N distinct synthetic values through the pseudonymiser under a random key: how
/// many collide (two originals, one pseudonym, which would merge two people in a join) and the cost per value. Pure CPU.
/// </summary>
public static class PseudonymCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var values = new Option<int>("--values") { Description = "Distinct values per kind", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("pseudonyms", "Collision rate and cost of the tenant pseudonymiser per PII kind") { values };
        command.SetAction(async (parsed, ct) =>
        {
            var n = parsed.GetValue(values);
            if (n < 1)
            {
                await stderr.WriteLineAsync($"error: --values {n}: expected at least 1.");
                return ExitCodes.Usage;
            }
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            var pseudonymiser = new Pseudonymiser(RandomNumberGenerator.GetBytes(32));
            await stdout.WriteLineAsync("| kind | values | distinct pseudonyms | collisions | µs per value |");
            await stdout.WriteLineAsync("|---|---|---|---|---|");
            foreach (var kind in PiiKinds.All)
            {
                ct.ThrowIfCancellationRequested();
                var seen = new HashSet<string>(n, StringComparer.Ordinal);
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < n; i++) seen.Add(pseudonymiser.Of(kind, Value(kind, i)));
                clock.Stop();
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"| {kind} | {n} | {seen.Count} | {n - seen.Count} | {clock.Elapsed.TotalMilliseconds * 1000 / n:F2} |"));
            }
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The i-th distinct original of a kind (distinct after the kind's normalisation).</summary>
    private static string Value(string kind, int i) => kind switch
    {
        PiiKinds.Email => string.Create(CultureInfo.InvariantCulture, $"user{i}@example.com"),
        PiiKinds.Phone => string.Create(CultureInfo.InvariantCulture, $"+44 {i:D10}"),
        PiiKinds.Ip => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
        PiiKinds.BirthDate => new DateOnly(1900, 1, 1).AddDays(i % 40_000).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + (i >= 40_000 ? "#" + i : ""),
        _ => string.Create(CultureInfo.InvariantCulture, $"person {i}"),
    };
}
