using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Migrations.Parity;
using ControlPlane.Postgres.Parity;
using Npgsql;

namespace ControlPlane.Bench.Parity;

/// <summary>What one parity run measured: medians over the rounds, in milliseconds.</summary>
public sealed record ParityResult(int Tables, int Objects, int Differences, int Statements, int Rounds,
    double SnapshotMedianMs, double SnapshotMaxMs, double PlanMedianMs, double PlanMaxMs)
{
    public string Render() => string.Create(CultureInfo.InvariantCulture,
        $"""
        tables per schema      {Tables}
        objects per snapshot   {Objects}
        differences            {Differences}
        reconcile statements   {Statements}
        snapshot (one schema)  median {SnapshotMedianMs:F0} ms, max {SnapshotMaxMs:F0} ms over {Rounds} rounds
        diff + plan + hazards  median {PlanMedianMs:F0} ms, max {PlanMaxMs:F0} ms over {Rounds} rounds
        """);
}

/// <summary>
/// Builds two schemas of <c>tables</c> tables each (key, four columns, an index, a check, a comment, a grant-free
/// shape), where every tenth table of B has one more column and a different index; then times the snapshot of A and
/// the diff and reconcile plan from A to B.
/// </summary>
public static class ParityRun
{
    public static async Task<ParityResult> RunAsync(string connectionString, int tables, int rounds, TextWriter log, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await log.WriteLineAsync($"creating two schemas of {tables} tables");
        await ExecuteAsync(connection, Schema("parity_bench_a", tables, differs: false), ct);
        await ExecuteAsync(connection, Schema("parity_bench_b", tables, differs: true), ct);

        var snapshotMs = new List<double>();
        var planMs = new List<double>();
        SchemaSnapshot? a = null;
        SchemaReconciliation? plan = null;
        var b = await SchemaSnapshotReader.ReadAsync(connection, "parity_bench_b", ct);
        for (var round = 0; round <= rounds; round++)
        {
            var clock = Stopwatch.StartNew();
            a = await SchemaSnapshotReader.ReadAsync(connection, "parity_bench_a", ct);
            var snapshot = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            plan = ReconcilePlanner.Plan(a, b);
            var planned = clock.Elapsed.TotalMilliseconds;
            if (round == 0) continue;
            snapshotMs.Add(snapshot);
            planMs.Add(planned);
        }
        await ExecuteAsync(connection, "DROP SCHEMA parity_bench_a CASCADE; DROP SCHEMA parity_bench_b CASCADE", ct);
        return new ParityResult(tables, a!.Objects.Count(), plan!.Differences.Count, plan.Statements.Count, rounds,
            Median(snapshotMs), snapshotMs.Max(), Median(planMs), planMs.Max());
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Schema(string schema, int tables, bool differs)
    {
        var sql = new StringBuilder().Append(CultureInfo.InvariantCulture, $"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema};\n");
        for (var i = 0; i < tables; i++)
        {
            var changed = differs && i % 10 == 0;
            sql.Append(CultureInfo.InvariantCulture, $"CREATE TABLE t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id text NOT NULL, amount numeric(12,2) DEFAULT 0, note text, created_at timestamptz NOT NULL DEFAULT now(){(changed ? ", region text" : "")});\n");
            sql.Append(CultureInfo.InvariantCulture, $"CREATE INDEX t{i}_tenant_idx ON t{i} (tenant_id{(changed ? ", created_at" : "")});\n");
            sql.Append(CultureInfo.InvariantCulture, $"ALTER TABLE t{i} ADD CONSTRAINT t{i}_amount_chk CHECK (amount >= 0);\n");
            sql.Append(CultureInfo.InvariantCulture, $"COMMENT ON TABLE t{i} IS 'table {i}';\n");
        }
        return sql.Append("RESET search_path;").ToString();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(ct);
    }
}
