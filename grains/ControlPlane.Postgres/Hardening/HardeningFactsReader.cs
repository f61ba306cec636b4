using System.Net;
using System.Numerics;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Hardening;

/// <summary>
/// Reads <see cref="HardeningFacts"/> from one instance in one short session: no host access, so it works against any
/// PostgreSQL the control plane can log in to. A fact the login may not read (SQLSTATE 42501) or that this version
/// lacks (42P01, 42883) stays null; a lost connection fails the whole read.
/// </summary>
public static class HardeningFactsReader
{
    public const string ApplicationName = "controlplane-hardening";

    public static Task<HardeningFacts> ReadAsync(ReplicaEndpoint endpoint, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return ReadAsync(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile),
        }, timeout, ct);
    }

    /// <summary>
    /// The same read over any connection string (the control plane's own catalog): its credentials and TLS settings
    /// are kept, its pooling, timeouts and application name replaced by the audit's own.
    /// </summary>
    public static async Task<HardeningFacts> ReadAsync(NpgsqlConnectionStringBuilder target, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        var builder = new NpgsqlConnectionStringBuilder(target.ConnectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            Timeout = seconds,
            CommandTimeout = seconds,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        var settings = await Optional(() => ReadMap(connection, HardeningSql.Settings, seconds, ct)).ConfigureAwait(false);
        var kinds = await Optional(() => ReadMap(connection, HardeningSql.PasswordKinds, seconds, ct)).ConfigureAwait(false);
        return new HardeningFacts(
            settings,
            await Optional(() => ReadHba(connection, seconds, ct)).ConfigureAwait(false),
            await Optional(() => ReadRoles(connection, kinds, seconds, ct)).ConfigureAwait(false),
            await Optional(async () => (bool?)(bool)(await Scalar(connection, HardeningSql.PublicCreateOnPublic, seconds, ct).ConfigureAwait(false))!).ConfigureAwait(false),
            await Optional(() => ReadNames(connection, HardeningSql.PublicExecutable, seconds, ct, new object[] { HardeningSql.DangerousFunctions })).ConfigureAwait(false),
            await Optional(() => ReadNames(connection, HardeningSql.UntrustedLanguages, seconds, ct)).ConfigureAwait(false),
            await Optional(() => ReadNames(connection, HardeningSql.UnpinnedSecurityDefiners, seconds, ct)).ConfigureAwait(false),
            await Optional(() => ReadNames(connection, HardeningSql.Extensions, seconds, ct)).ConfigureAwait(false),
            await Optional(() => ReadNames(connection, HardeningSql.ServerFileRoleMembers, seconds, ct)).ConfigureAwait(false),
            settings is not null && settings.TryGetValue("server_version_num", out var v) && int.TryParse(v, out var num) ? num : null);
    }

    /// <summary>Prefix length of a netmask ("255.255.255.0" → 24); null when there is none or it is not a mask.</summary>
    public static int? PrefixLength(string? netmask)
    {
        if (string.IsNullOrEmpty(netmask) || !IPAddress.TryParse(netmask, out var mask)) return null;
        return mask.GetAddressBytes().Sum(b => BitOperations.PopCount(b));
    }

    private static async Task<T?> Optional<T>(Func<Task<T>> read) where T : class?
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedFunction or PostgresErrorCodes.UndefinedColumn)
        {
            return null;
        }
    }

    private static async Task<bool?> Optional(Func<Task<bool?>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.UndefinedFunction)
        {
            return null;
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, int seconds, params object[] args)
    {
        var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = seconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return cmd;
    }

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql, int seconds, CancellationToken ct)
    {
        await using var cmd = Command(connection, sql, seconds);
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyDictionary<string, string>> ReadMap(NpgsqlConnection connection, string sql, int seconds, CancellationToken ct)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var cmd = Command(connection, sql, seconds);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            map[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        return map;
    }

    private static async Task<IReadOnlyList<string>> ReadNames(NpgsqlConnection connection, string sql, int seconds, CancellationToken ct, params object[] args)
    {
        var names = new List<string>();
        await using var cmd = Command(connection, sql, seconds, args);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return names;
    }

    private static async Task<IReadOnlyList<HbaRule>> ReadHba(NpgsqlConnection connection, int seconds, CancellationToken ct)
    {
        var rules = new List<HbaRule>();
        await using var cmd = Command(connection, HardeningSql.HbaRules, seconds);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var address = reader.IsDBNull(4) ? null : reader.GetString(4);
            var prefix = PrefixLength(reader.IsDBNull(5) ? null : reader.GetString(5));
            rules.Add(new HbaRule(
                reader.GetInt32(0),
                reader.IsDBNull(1) ? "" : reader.GetString(1),
                reader.GetFieldValue<string[]>(2),
                reader.GetFieldValue<string[]>(3),
                address is not null && prefix is { } p ? $"{address}/{p}" : address,
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return rules;
    }

    private static async Task<IReadOnlyList<RoleFact>> ReadRoles(NpgsqlConnection connection, IReadOnlyDictionary<string, string>? kinds, int seconds, CancellationToken ct)
    {
        var roles = new List<RoleFact>();
        await using var cmd = Command(connection, HardeningSql.Roles, seconds);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var name = reader.GetString(0);
            roles.Add(new RoleFact(name, reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4),
                reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                kinds is null ? null : kinds.GetValueOrDefault(name)));
        }
        return roles;
    }
}
