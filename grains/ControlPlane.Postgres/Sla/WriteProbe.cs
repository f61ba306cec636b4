using System.Diagnostics;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Sla;

/// <summary>One write as a client would make it: succeeded within the deadline, or why not.</summary>
public sealed record WriteCheck(bool Writable, TimeSpan Latency, string Error);

/// <summary>
/// Writes one row on the tier's primary, as an application would, under a deadline. A primary that accepts
/// sessions but cannot commit (read-only after a demotion, a synchronous standby gone, a full disk, a frozen
/// server) fails here while a read probe still answers: availability is measured on the write. The row lives in
/// <c>controlplane.write_probe</c>, one row per tier, so the table never grows.
/// </summary>
public sealed class WriteProbe : IAsyncDisposable
{
    public const string ApplicationName = "controlplane-write-probe";

    internal const string EnsureSql = """
        CREATE SCHEMA IF NOT EXISTS controlplane;
        CREATE TABLE IF NOT EXISTS controlplane.write_probe (
            tier text PRIMARY KEY,
            term bigint NOT NULL,
            written_at timestamptz NOT NULL
        )
        """;

    internal const string WriteSql = """
        INSERT INTO controlplane.write_probe (tier, term, written_at) VALUES ($1, $2, clock_timestamp())
        ON CONFLICT (tier) DO UPDATE SET term = excluded.term, written_at = excluded.written_at
        """;

    private readonly NpgsqlDataSource _source;
    private readonly TimeSpan _timeout;
    private bool _ensured;

    public WriteProbe(ReplicaEndpoint primary, TimeSpan timeout)
    {
        _timeout = timeout;
        var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        // Pooled: a write every second must not pay a TLS handshake each time. One connection is all it needs.
        var builder = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(primary, pooling: true))
        {
            ApplicationName = ApplicationName,
            Timeout = seconds,
            CommandTimeout = seconds,
            MaxPoolSize = 2,
        };
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
        Endpoint = primary;
    }

    public ReplicaEndpoint Endpoint { get; }

    public async Task<WriteCheck> WriteAsync(string tier, long term, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        try
        {
            await using var connection = await _source.OpenConnectionAsync(deadline.Token).ConfigureAwait(false);
            if (!_ensured)
            {
                await using var ensure = new NpgsqlCommand(EnsureSql, connection);
                await ensure.ExecuteNonQueryAsync(deadline.Token).ConfigureAwait(false);
                _ensured = true;
            }
            await using var write = new NpgsqlCommand(WriteSql, connection) { Parameters = { new() { Value = tier }, new() { Value = term } } };
            await write.ExecuteNonQueryAsync(deadline.Token).ConfigureAwait(false);
            return new WriteCheck(true, watch.Elapsed, "");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // A connection cancelled mid-command is broken: drop the pool so the next write starts clean.
            _source.Clear();
            return new WriteCheck(false, watch.Elapsed, $"no commit within {_timeout.TotalSeconds:0.#}s");
        }
        catch (PostgresException e)
        {
            return new WriteCheck(false, watch.Elapsed, $"{e.SqlState}: {e.MessageText}");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
        {
            // Npgsql's messages name host and port, never the password.
            return new WriteCheck(false, watch.Elapsed, e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message);
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
