using System.Globalization;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>The steps of a restore: checks before anything is written, the directories, the configuration, the wait.</summary>
public sealed partial class RestoreRunner
{
    private const string RecoveryStateSql =
        "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
        + "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END, "
        + "(SELECT status FROM pg_stat_wal_receiver), (SELECT received_tli FROM pg_stat_wal_receiver)";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Everything that can be known wrong before a byte is written; returns the backup's WAL range.</summary>
    private static BackupWalRange Validate(RestoreRequest request, string backup)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(request.Port, 65535);
        if (!Directory.Exists(backup)) throw new DirectoryNotFoundException($"Base backup '{backup}' does not exist; nothing to restore.");
        var manifest = Path.Combine(backup, BackupArchives.ManifestFile);
        if (!File.Exists(manifest)) throw new FileNotFoundException($"'{backup}' has no {BackupArchives.ManifestFile}; it is not a complete base backup.", manifest);
        if (BackupArchives.Find(backup, BackupArchives.BaseStem) is null)
        {
            throw new FileNotFoundException($"'{backup}' has no base.tar archive; it is not a complete base backup.", Path.Combine(backup, "base.tar"));
        }
        if (request.Target.Kind != RecoveryTargetKind.Immediate && !Directory.Exists(request.WalDirectory))
        {
            throw new DirectoryNotFoundException($"WAL directory '{request.WalDirectory}' does not exist; recovery past the backup's end needs the archived WAL.");
        }
        if (!File.Exists(request.Credentials.PasswordFile))
        {
            throw new FileNotFoundException($"Password file '{request.Credentials.PasswordFile}' of {request.Credentials.User} does not exist.", request.Credentials.PasswordFile);
        }
        if (request.StandbyOf is not null && request.Target.Kind != RecoveryTargetKind.Latest)
        {
            throw new ArgumentException($"A restore as a standby replays for ever; its target must be Latest, not {request.Target.Kind}.", nameof(request));
        }
        var range = BackupManifest.Parse(File.ReadAllText(manifest));
        if (request.Target is { Kind: RecoveryTargetKind.Time, Time: { } time })
        {
            var now = DateTimeOffset.UtcNow;
            if (time > now)
            {
                throw new ArgumentException($"Recovery target time {time:O} is in the future (now {now:O}); no WAL can reach it.", nameof(request));
            }
            if (range.StartedAt is { } started && time < started)
            {
                throw new ArgumentException(
                    $"Recovery target time {time:O} is before base backup '{backup}' started ({started:O}); restore an older backup.", nameof(request));
            }
        }
        return range;
    }

    /// <summary>The data directory must be new (or empty), and its parent new, empty or a restore's own.</summary>
    private static void EnsureNewTarget(string data)
    {
        if (Directory.Exists(data) && Directory.EnumerateFileSystemEntries(data).Any())
        {
            throw new IOException($"Target data directory '{data}' exists and is not empty; destroy the earlier restore first.");
        }
        var instance = Path.GetDirectoryName(data) ?? throw new ArgumentException($"Target data directory '{data}' has no parent.", nameof(data));
        if (Directory.Exists(instance) && !File.Exists(Path.Combine(instance, MarkerFile))
            && Directory.EnumerateFileSystemEntries(instance).Any(e => Path.GetFullPath(e) != data))
        {
            throw new IOException($"'{instance}' (the restored instance's directory) already holds other files; choose a new directory.");
        }
    }

    private async Task PrepareAsync(RestoreRequest request, string backup, string data, CancellationToken ct)
    {
        var instance = Path.GetDirectoryName(data)!;
        UnixFile.CreateDirectory(instance, OwnerOnly);
        await File.WriteAllTextAsync(Path.Combine(instance, MarkerFile), $"restore of {backup} at {DateTimeOffset.UtcNow:O}\n", ct).ConfigureAwait(false);
        await OsUser.GiveToPostgresAsync(instance, recursive: false, ct).ConfigureAwait(false);
        UnixFile.CreateDirectory(data, OwnerOnly);
        await OsUser.GiveToPostgresAsync(data, recursive: false, ct).ConfigureAwait(false);
        // The archives are read, and restore_command runs, as the postgres user.
        await OsUser.EnsureAncestorsTraversableAsync(data, logger, ct).ConfigureAwait(false);
        await OsUser.EnsureAncestorsTraversableAsync(backup, logger, ct).ConfigureAwait(false);
        if (Directory.Exists(request.WalDirectory)) await OsUser.EnsureAncestorsTraversableAsync(Path.GetFullPath(request.WalDirectory), logger, ct).ConfigureAwait(false);
    }

    /// <summary>Clears what the source left that a restored copy must not have, and writes the signal file.</summary>
    private async Task ConfigureAsync(LocalInstanceDriver driver, bool standby, CancellationToken ct)
    {
        var data = driver.DataDirectory;
        foreach (var leftover in new[] { "postmaster.pid", "postmaster.opts", "standby.signal", "recovery.signal" })
        {
            File.Delete(Path.Combine(data, leftover));
        }
        var slots = Path.Combine(data, "pg_replslot");
        if (Directory.Exists(slots))
        {
            foreach (var slot in Directory.GetDirectories(slots)) Directory.Delete(slot, recursive: true);
        }
        var autoConf = Path.Combine(data, "postgresql.auto.conf");
        if (File.Exists(autoConf))
        {
            var stripped = RecoveryConfig.StripAutoConf(await File.ReadAllTextAsync(autoConf, ct).ConfigureAwait(false));
            await OsUser.WriteFileAsync(autoConf, stripped, UnixFileMode.UserRead | UnixFileMode.UserWrite, forPostgres: true, ct).ConfigureAwait(false);
        }
        await driver.AppendIncludeAsync(ct).ConfigureAwait(false);
        await OsUser.WriteFileAsync(Path.Combine(data, standby ? "standby.signal" : "recovery.signal"), "",
            UnixFileMode.UserRead | UnixFileMode.UserWrite, forPostgres: true, ct).ConfigureAwait(false);
    }

    /// <summary>Polls until promoted (or, for a standby, streaming); a server that exits meanwhile failed its recovery.</summary>
    private async Task<(int Timeline, ulong Lsn)> WaitForRecoveryAsync(
        LocalInstanceDriver driver, ReplicaEndpoint endpoint, bool standby, ulong startLsn, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var connectionString = AdminSql.ConnectionString(endpoint);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var state = await ReadStateAsync(connectionString, ct).ConfigureAwait(false);
            if (state is { } s)
            {
                if (standby && s.Receiver == "streaming" && s.ReceivedTimeline is { } tli) return (tli, s.Replayed.Value);
                if (!standby && !s.InRecovery && s.WalFile is { Length: >= 8 } walFile)
                {
                    progress?.Report(new BackupProgress("promoted", s.Replayed.BytesAhead(new Lsn(startLsn)), 0, $"replayed up to {s.Replayed}"));
                    return (int.Parse(walFile.AsSpan(0, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture), s.Replayed.Value);
                }
                progress?.Report(new BackupProgress("recovering", s.Replayed.BytesAhead(new Lsn(startLsn)), 0, $"replayed up to {s.Replayed}"));
            }
            else if (!await driver.IsRunningAsync(ct).ConfigureAwait(false))
            {
                throw new RestoreFailedException(
                    $"The restored server in '{driver.DataDirectory}' stopped during recovery. Server log '{driver.LogFile}' ends with:\n{driver.LogTail()}");
            }
            await Task.Delay(PollInterval, ct).ConfigureAwait(false);
        }
    }

    private sealed record RecoveryState(bool InRecovery, Lsn Replayed, string? WalFile, string? Receiver, int? ReceivedTimeline);

    private static async Task<RecoveryState?> ReadStateAsync(string connectionString, CancellationToken ct)
    {
        try
        {
            await using var connection = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(RecoveryStateSql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            return new RecoveryState(
                reader.GetBoolean(0),
                reader.IsDBNull(1) ? default : Lsn.Parse(reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4));
        }
        // Not accepting connections yet, promoting between the two reads, or gone: the caller looks at the process.
        // Wrong credentials will not heal by waiting.
        catch (NpgsqlException e) when (e is not PostgresException { SqlState: "28P01" or "28000" or "3D000" })
        {
            return null;
        }
    }
}
