using Npgsql;

namespace ControlPlane.Postgres.Health;

/// <summary>What one disk write check saw: the server wrote a new block, or why it could not.</summary>
/// <param name="DiskFull">The write failed with SQLSTATE 53100 (disk_full): the server could not extend a file.</param>
public sealed record DiskWriteCheck(bool Written, bool DiskFull, string? Error)
{
    public static readonly DiskWriteCheck Ok = new(true, false, null);
}

/// <summary>
/// The disk write check. A full data directory does not stop a server from answering reads, and a small update can
/// still land in a page that is already allocated, so neither the pooled probe nor the SLA's one-row upsert sees
/// it reliably; what fails is every write that needs a new block. This check makes the server allocate one: it
/// creates a temporary table and inserts a row, which extends the table's file by a zeroed block written at once
/// (PostgreSQL writes every new block when it extends a relation), then rolls back, so nothing stays. A full disk
/// answers 53100 ("could not extend file ...: No space left on device"). It runs only when the host sees little
/// space left (the replica grain decides), so a healthy primary never pays the catalog churn.
/// </summary>
public sealed partial class ReplicaProbe
{
    public const string DiskWriteSql = """
        CREATE TEMP TABLE controlplane_disk_check (b bytea) ON COMMIT DROP;
        INSERT INTO controlplane_disk_check VALUES ('\x00'::bytea)
        """;

    public async Task<DiskWriteCheck> CheckDiskWriteAsync(CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(deadline.Token).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(deadline.Token).ConfigureAwait(false);
            await using (var cmd = new NpgsqlCommand(DiskWriteSql, connection, transaction))
            {
                await cmd.ExecuteNonQueryAsync(deadline.Token).ConfigureAwait(false);
            }
            await transaction.RollbackAsync(deadline.Token).ConfigureAwait(false);
            return DiskWriteCheck.Ok;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (PostgresException e)
        {
            return new DiskWriteCheck(false, e.SqlState == PostgresErrorCodes.DiskFull, Describe(e));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException or IOException)
        {
            // Not evidence of a full disk: the pooled probe judges reachability.
            return new DiskWriteCheck(false, false, Describe(e));
        }
    }
}
