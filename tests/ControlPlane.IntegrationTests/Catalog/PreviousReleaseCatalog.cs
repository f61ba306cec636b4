using System.Reflection;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// Turns a catalog's grain state rows back into what the previous release wrote: Orleans' Newtonsoft JSON grain
/// storage serializer (<see cref="JsonGrainStorageSerializer"/>, TypeNameHandling.All) with the
/// <see cref="ReadOnlyListJsonConverter"/> the previous release added. Versions are left as they are.
/// </summary>
internal static class PreviousReleaseCatalog
{
    private static readonly Lazy<IServiceProvider> Services = new(() => new HostBuilder()
        .UseOrleans(silo => silo.UseLocalhostClustering().Services.AddSerializer(s => s.AddAssembly(typeof(FleetKeys).Assembly)))
        .Build().Services);

    public static LegacyGrainStateReader Legacy => LegacyGrainStateReader.FromOrleansDefaults(JsonOptions());

    public static GrainStateSerializer Current => new(Services.Value.GetRequiredService<Serializer>(), Legacy);

    private static OrleansJsonSerializerOptions JsonOptions() => Services.Value.GetRequiredService<IOptions<OrleansJsonSerializerOptions>>().Value;

    private static JsonGrainStorageSerializer PreviousSerializer()
    {
        var settings = new Newtonsoft.Json.JsonSerializerSettings(JsonOptions().JsonSerializerSettings);
        settings.Converters = [.. settings.Converters, new ReadOnlyListJsonConverter()];
        var previous = new OrleansJsonSerializerOptions { JsonSerializerSettings = settings };
        return new JsonGrainStorageSerializer(new OrleansJsonSerializer(Options.Create(previous)));
    }

    /// <summary>Rewrites every catalog state row into the previous release's JSON and forgets the migration; returns how many.</summary>
    public static async Task<int> DowngradeAsync(string catalog)
    {
        var types = GrainStateTypes.Discover();
        var current = Current;
        var previous = PreviousSerializer();
        await using var dataSource = NpgsqlDataSource.Create(catalog);
        var rows = new List<(string State, int IdHash, string? Key, byte[] Payload)>();
        await using (var read = dataSource.CreateCommand(
            "SELECT grain_type_string, grain_id_hash, grain_id_extension_string, payload_binary FROM orleans_grain_state WHERE grain_type_string = ANY($1) AND payload_binary IS NOT NULL"))
        {
            read.Parameters.AddWithValue(types.Keys.ToArray());
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2), (byte[])reader[3]));
        }
        foreach (var row in rows)
        {
            var type = types[row.State];
            var value = Deserialize(current, type, row.Payload);
            var json = (BinaryData)typeof(JsonGrainStorageSerializer).GetMethod(nameof(JsonGrainStorageSerializer.Serialize))!
                .MakeGenericMethod(type).Invoke(previous, [value])!;
            await SetPayloadAsync(dataSource, row.State, row.Key, json.ToArray());
        }
        await using (var forget = dataSource.CreateCommand("DELETE FROM controlplane_schema_migrations WHERE version = $1"))
        {
            forget.Parameters.AddWithValue(GrainStateMigration.Version);
            await forget.ExecuteNonQueryAsync();
        }
        return rows.Count;
    }

    public static async Task SetPayloadAsync(NpgsqlDataSource dataSource, string state, string? key, byte[] payload)
    {
        await using var update = dataSource.CreateCommand(
            "UPDATE orleans_grain_state SET payload_binary = $1 WHERE grain_type_string = $2 AND grain_id_extension_string IS NOT DISTINCT FROM $3");
        update.Parameters.AddWithValue(payload);
        update.Parameters.AddWithValue(state);
        update.Parameters.Add(new NpgsqlParameter { Value = (object?)key ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        if (await update.ExecuteNonQueryAsync() != 1) throw new InvalidOperationException($"no single row {state} {key}");
    }

    /// <summary>Each catalog state row: state name, key, version, and whether it is the previous release's JSON.</summary>
    public static async Task<IReadOnlyList<(string State, string? Key, int Version, bool Legacy)>> RowsAsync(string catalog)
    {
        await using var dataSource = NpgsqlDataSource.Create(catalog);
        await using var read = dataSource.CreateCommand(
            "SELECT grain_type_string, grain_id_extension_string, version, payload_binary FROM orleans_grain_state WHERE grain_type_string = ANY($1) AND payload_binary IS NOT NULL ORDER BY 1, 2");
        read.Parameters.AddWithValue(GrainStateTypes.Discover().Keys.ToArray());
        var rows = new List<(string, string?, int, bool)>();
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), GrainStateSerializer.IsLegacy((byte[])reader[3])));
        return rows;
    }

    public static async Task<bool> MigrationRecordedAsync(string catalog)
    {
        await using var dataSource = NpgsqlDataSource.Create(catalog);
        await using var read = dataSource.CreateCommand("SELECT count(*) FROM controlplane_schema_migrations WHERE version = $1");
        read.Parameters.AddWithValue(GrainStateMigration.Version);
        return (long)(await read.ExecuteScalarAsync())! == 1;
    }

    private static object Deserialize(GrainStateSerializer serializer, Type type, byte[] payload) =>
        typeof(PreviousReleaseCatalog).GetMethod(nameof(DeserializeAs), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type).Invoke(null, [serializer, payload])!;

    private static T DeserializeAs<T>(GrainStateSerializer serializer, byte[] payload) => serializer.Deserialize<T>(new BinaryData(payload));
}
