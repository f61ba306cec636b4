using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>Statements and replication-slot reads the WAL-loss scenarios run on an instance through its own connections.</summary>
public static class ChaosSlots
{
    public static async Task ExecuteAsync(ChaosInstance instance, string sql)
    {
        await using var connection = await instance.OpenAsync(5, 120, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<string> ScalarTextAsync(ChaosInstance instance, string sql)
    {
        await using var connection = await instance.OpenAsync(5, 30, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The slot's <c>wal_status</c> (reserved, extended, unreserved, lost), or null without the slot.</summary>
    public static async Task<string?> WalStatusAsync(ChaosInstance primary, string slot)
    {
        await using var connection = await primary.OpenAsync(5, 30, CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", connection);
        command.Parameters.AddWithValue(slot);
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>
    /// Waits (at most 30 s, then goes on and says so) until <paramref name="slot"/>'s restart_lsn reaches
    /// <paramref name="lsn"/>: WAL switches paced by the slots that must stay within a lowered max_slot_wal_keep_size.
    /// </summary>
    public static async Task WaitPastAsync(ChaosInstance primary, string slot, string lsn, ITestOutputHelper output)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var caughtUp = await ScalarTextAsync(primary,
                $"SELECT COALESCE((SELECT (restart_lsn >= '{lsn}'::pg_lsn)::text FROM pg_replication_slots WHERE slot_name = '{slot}'), 'no slot')");
            if (caughtUp == "true") return;
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                output.WriteLine($"slot {slot} is still behind {lsn} ({caughtUp}) after {watch.Elapsed}; switching on");
                return;
            }
            await Task.Delay(50);
        }
    }
}
