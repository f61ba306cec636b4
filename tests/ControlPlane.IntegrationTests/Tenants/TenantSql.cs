using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>The test's own SQL on a tier's primary: as the superuser (to check what exists) or as a tenant's role.</summary>
internal sealed class TenantSql(SiloFixture fixture, string tier)
{
    public async Task<string> ConnectionStringAsync(string? user = null, string? passwordFile = null)
    {
        var t = await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = tier });
        var primary = t.Replicas.Single(r => r.Name == t.Primary);
        return new NpgsqlConnectionStringBuilder
        {
            Host = primary.Host,
            Port = primary.Port,
            Database = "postgres",
            Username = user ?? "postgres",
            Password = SecretFile.Read(passwordFile ?? new LocalFleetOptions(fixture.DataDirectory).SuperuserPasswordFile(tier)),
            Pooling = false,
            Timeout = 10,
            CommandTimeout = 15,
        }.ConnectionString;
    }

    public async Task<NpgsqlConnection> OpenAsync(string? user = null, string? passwordFile = null)
    {
        var connection = new NpgsqlConnection(await ConnectionStringAsync(user, passwordFile));
        await connection.OpenAsync();
        return connection;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var connection = await OpenAsync();
        return await ScalarAsync<T>(connection, sql, args);
    }

    public async Task ExecuteAsync(string sql, params object[] args)
    {
        await using var connection = await OpenAsync();
        await ExecuteAsync(connection, sql, args);
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return await cmd.ExecuteNonQueryAsync();
    }

    public Task<bool> RoleExistsAsync(string role) => ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role);

    public Task<bool> SchemaExistsAsync(string schema) => ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema);
}
