// Rewrites, once per catalog, every grain state row still in the previous release's JSON into Orleans' encoding.
//
// Why this shape:
// - It runs as a hosted service registered before Orleans', so on this silo it finishes before any grain reads
//   state. Other silos may already be running: the rewrite happens in one transaction under the catalog
//   migrator's advisory lock (concurrent silos queue, then see the record and skip), and it locks the rows it
//   rewrites (SELECT ... FOR UPDATE), so a live activation's write waits for it instead of interleaving.
// - The version (the grain's ETag) is NOT bumped. The rewrite changes the encoding, not the state: an activation
//   that read version v holds exactly the value now stored at version v, so its next compare-and-set write must
//   still succeed. Bumping would make every live tier grain lose its next write and deactivate as if a stale
//   duplicate, for nothing. The UPDATE still checks the version it read, so it can never overwrite a newer write.
// - Idempotent: only payloads detected as JSON are touched, and the record in controlplane_schema_migrations
//   (version 1001; code migrations count from 1001 so they never collide with the NNNN_*.sql files) makes later
//   starts skip the scan. A row that cannot be read is logged with its state name and key and left alone (its grain
//   would fail the same way), and the record is then not written, so the next start tries again.
// - Rows of other storages (Orleans' PubSubStore) and unknown state names are never touched.

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>Start-up rewrite of old-format grain state rows; see the file header.</summary>
public sealed partial class GrainStateMigration(
    string catalog, GrainStateSerializer serializer, LegacyGrainStateReader legacy, ILogger<GrainStateMigration> logger) : IHostedService
{
    /// <summary>Row of this data migration in <c>controlplane_schema_migrations</c>.</summary>
    public const int Version = 1001;

    /// <summary>Name recorded with <see cref="Version"/>.</summary>
    public const string Name = "1001_grain_state_orleans_encoding";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private const string ReadRecordSql = "SELECT 1 FROM controlplane_schema_migrations WHERE version = @version";

    private const string ReadRowsSql = """
        SELECT service_id, grain_id_hash, grain_id_n0, grain_id_n1, grain_type_hash, grain_type_string,
               grain_id_extension_string, version, payload_binary
          FROM orleans_grain_state
         WHERE grain_type_string = ANY(@names) AND payload_binary IS NOT NULL
           FOR UPDATE
        """;

    private const string RewriteSql = """
        UPDATE orleans_grain_state SET payload_binary = @payload
         WHERE grain_id_hash = @id_hash AND grain_type_hash = @type_hash AND service_id = @service_id
           AND grain_id_n0 = @n0 AND grain_id_n1 = @n1 AND grain_type_string = @state
           AND grain_id_extension_string IS NOT DISTINCT FROM @extension
           AND version = @version
        """;

    private const string RecordSql = """
        INSERT INTO controlplane_schema_migrations (version, name, checksum, applied_at)
        VALUES (@version, @name, @checksum, now()) ON CONFLICT (version) DO NOTHING
        """;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync(cancellationToken).ConfigureAwait(false);
        if (result.Rewritten > 0 || result.Failed > 0) LogResult(result.Rewritten, result.Failed);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs the rewrite unless recorded; returns how many rows it rewrote and how many it could not read.</summary>
    public async Task<GrainStateMigrationResult> RunAsync(CancellationToken ct)
    {
        var types = GrainStateTypes.Discover();
        await using var dataSource = NpgsqlDataSource.Create(catalog);
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var lockCommand = Command(connection, tx, "SELECT pg_advisory_xact_lock(@key)"))
        {
            lockCommand.Parameters.AddWithValue("key", CatalogMigrator.MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using (var recorded = Command(connection, tx, ReadRecordSql))
        {
            recorded.Parameters.AddWithValue("version", Version);
            if (await recorded.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
            {
                await tx.RollbackAsync(ct).ConfigureAwait(false);
                return new GrainStateMigrationResult(0, 0, AlreadyRecorded: true);
            }
        }

        var rows = new List<StateRow>();
        await using (var read = Command(connection, tx, ReadRowsSql))
        {
            read.Parameters.AddWithValue("names", types.Keys.ToArray());
            await using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var payload = (byte[])reader[8];
                if (!GrainStateSerializer.IsLegacy(payload)) continue;
                rows.Add(new StateRow(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt32(4),
                    reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt32(7), payload));
            }
        }

        int rewritten = 0, failed = 0;
        foreach (var row in rows)
        {
            byte[] encoded;
            try
            {
                var type = types[row.State];
                encoded = serializer.Serialize(type, legacy.Read(type, row.Payload));
            }
            catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or Orleans.Serialization.SerializerException
                                           or InvalidOperationException or NotSupportedException or InvalidCastException)
            {
                LogUnreadable(ex, row.State, row.Extension ?? row.N1.ToString(System.Globalization.CultureInfo.InvariantCulture), row.Version);
                failed++;
                continue;
            }
            await using var update = Command(connection, tx, RewriteSql);
            update.Parameters.AddWithValue("payload", encoded);
            update.Parameters.AddWithValue("id_hash", row.IdHash);
            update.Parameters.AddWithValue("type_hash", row.TypeHash);
            update.Parameters.AddWithValue("service_id", row.ServiceId);
            update.Parameters.AddWithValue("n0", row.N0);
            update.Parameters.AddWithValue("n1", row.N1);
            update.Parameters.AddWithValue("state", row.State);
            update.Parameters.Add(new NpgsqlParameter("extension", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)row.Extension ?? DBNull.Value });
            update.Parameters.AddWithValue("version", row.Version);
            rewritten += await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        if (failed == 0)
        {
            await using var record = Command(connection, tx, RecordSql);
            record.Parameters.AddWithValue("version", Version);
            record.Parameters.AddWithValue("name", Name);
            record.Parameters.AddWithValue("checksum", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Name))));
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return new GrainStateMigrationResult(rewritten, failed, AlreadyRecorded: false);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction tx, string sql) =>
        new(sql, connection, tx) { CommandTimeout = (int)Timeout.TotalSeconds };

    private sealed record StateRow(
        string ServiceId, int IdHash, long N0, long N1, int TypeHash, string State, string? Extension, int Version, byte[] Payload);

    [LoggerMessage(Level = LogLevel.Information, Message = "Grain state rewritten into Orleans' encoding: {Rewritten} rows ({Failed} unreadable)")]
    private partial void LogResult(int rewritten, int failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Grain state row {State} {Key} (version {Version}) could not be read as the previous release's JSON; left as it is")]
    private partial void LogUnreadable(Exception ex, string state, string key, int version);
}

/// <summary>What one run of <see cref="GrainStateMigration"/> did.</summary>
public sealed record GrainStateMigrationResult(int Rewritten, int Failed, bool AlreadyRecorded);
