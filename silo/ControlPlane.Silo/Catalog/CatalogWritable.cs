using ControlPlane.Postgres.Fleet;
using ControlPlane.Silo.Hosting;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// The start-up check that the catalog connection string reaches a writable host, before anything is written
/// (migrations, Orleans): each host is asked on its own, so the error says what every host is (unreachable, a
/// read-only standby) instead of Npgsql's "no suitable host". Nothing is changed when it fails.
/// </summary>
internal static class CatalogWritable
{
    private const string Role = "SELECT pg_is_in_recovery() OR current_setting('default_transaction_read_only') = 'on'";
    private static readonly TimeSpan PerHost = TimeSpan.FromSeconds(5);

    public static async Task RequireAsync(string connectionString, CancellationToken ct)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        var hosts = CatalogConnectionString.Hosts(csb);
        var seen = new List<string>();
        foreach (var host in hosts)
        {
            var (verdict, writable) = await AskAsync(csb, host, ct);
            if (writable) return;
            seen.Add($"{host} ({verdict})");
        }
        throw new ControlPlaneConfigurationException(
            $"no host of the catalog connection string accepts writes: {string.Join("; ", seen)}. Nothing was changed; start the catalog primary or name it in the connection string.");
    }

    private static async Task<(string Verdict, bool Writable)> AskAsync(NpgsqlConnectionStringBuilder all, string host, CancellationToken ct)
    {
        var cut = host.LastIndexOf(':');
        var one = new NpgsqlConnectionStringBuilder(all.ConnectionString)
        {
            Host = host[..cut],
            Port = int.Parse(host[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture),
            TargetSessionAttributes = null,
            Pooling = false,
            Timeout = (int)PerHost.TotalSeconds,
            CommandTimeout = (int)PerHost.TotalSeconds,
        };
        try
        {
            await using var connection = new NpgsqlConnection(one.ConnectionString);
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand(Role, connection);
            var readOnly = (bool)(await command.ExecuteScalarAsync(ct))!;
            return readOnly ? ("read-only: a standby or default_transaction_read_only", false) : ("writable", true);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            return ($"unreachable: {CatalogErrors.Clean(ex.Message)}", false);
        }
    }
}
