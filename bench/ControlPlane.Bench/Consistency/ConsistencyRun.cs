using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Postgres.Consistency;
using ControlPlane.Postgres.Fleet;
using Npgsql;

namespace ControlPlane.Bench.Consistency;

public sealed record ReadSide(string Side, long Rows, double Seconds, string Note)
{
    public double RowsPerSecond => Seconds > 0 ? Rows / Seconds : 0;
}

public sealed record ConsistencyResult(long Rows, int Chunks, IReadOnlyList<ReadSide> Sides)
{
    public string Render()
    {
        var b = new StringBuilder($"{Rows} rows, digest in {Chunks} chunks\n\n| side | rows | seconds | rows/s | note |\n|---|---|---|---|---|\n");
        foreach (var s in Sides)
            b.Append(CultureInfo.InvariantCulture, $"| {s.Side} | {s.Rows} | {s.Seconds:0.00} | {s.RowsPerSecond:N0} | {s.Note} |\n");
        return b.ToString();
    }
}

/// <summary>
/// Reads the same tables three ways on one server: the consistency check's digests (ReplicaComparer with no standby:
/// the primary's side of a check, chunked by key range), a plain <c>SELECT count(*)</c>, and
/// <c>md5(string_agg(row::text, '' ORDER BY key))</c>, the usual hand-written whole-table checksum.
/// </summary>
public static class ConsistencyRun
{
    public static async Task<ConsistencyResult> RunAsync(string connectionString, IReadOnlyList<string> tables, int rowsPerChunk, TextWriter progress, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 };
        var passwordFile = Path.GetTempFileName();
        // The Postgres layer reads passwords from files; a scratch server with trust auth ignores the placeholder.
        await File.WriteAllTextAsync(passwordFile, string.IsNullOrEmpty(builder.Password) ? "unused" : builder.Password, ct);
        try
        {
            var endpoint = new ReplicaEndpoint("bench", "bench", builder.Host ?? "127.0.0.1", builder.Port, builder.Database ?? "postgres", builder.Username ?? "postgres", passwordFile, null);
            var clock = Stopwatch.StartNew();
            var comparison = await ReplicaComparer.CompareAsync(new ComparedReplica("bench", endpoint), [], tables,
                new ComparisonOptions(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), rowsPerChunk, CommandTimeoutSeconds: 3600), ct);
            var digest = new ReadSide("consistency digest (chunked)", comparison.RowsCompared, clock.Elapsed.TotalSeconds, "hashtextextended per row, summed per key range");
            await progress.WriteLineAsync($"digest: {digest.Seconds:0.00} s");

            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(ct);
            clock.Restart();
            long counted = 0;
            foreach (var t in tables) counted += (long)(await ScalarAsync(connection, $"SELECT count(*) FROM {Quote(t)}", ct))!;
            var count = new ReadSide("SELECT count(*)", counted, clock.Elapsed.TotalSeconds, "rows only, no content");
            await progress.WriteLineAsync($"count: {count.Seconds:0.00} s");

            clock.Restart();
            var note = "";
            foreach (var t in tables)
            {
                var key = await ScalarAsync(connection,
                    "SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary", ct, t) as string;
                try
                {
                    await ScalarAsync(connection, $"SELECT md5(string_agg(r::text, '' {(key is null ? "" : "ORDER BY " + key)})) FROM {Quote(t)} AS r", ct);
                }
                catch (PostgresException e)
                {
                    note += $"{t}: {e.SqlState} {e.MessageText}; ";
                }
            }
            var md5 = new ReadSide("md5(string_agg(row::text ORDER BY key))", counted, clock.Elapsed.TotalSeconds, note.Length > 0 ? "FAILED: " + note : "one ordered string per table");
            await progress.WriteLineAsync($"md5: {md5.Seconds:0.00} s");
            return new ConsistencyResult(comparison.RowsCompared, comparison.Tables.Sum(t => t.Chunks), [digest, count, md5]);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>A table name as given (letters, digits, underscore, one optional schema dot): quoted per part.</summary>
    private static string Quote(string table) => string.Join('.', table.Split('.').Select(p => p.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
        ? "\"" + p + "\"" : throw new ArgumentException($"table '{table}' is not a plain name.", nameof(table))));

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return await cmd.ExecuteScalarAsync(ct);
    }
}
