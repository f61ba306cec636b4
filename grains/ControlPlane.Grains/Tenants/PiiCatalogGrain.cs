using ControlPlane.Grains.Fleet;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Tenants;

/// <summary>The environment's catalog of personal-data columns, per tier. Key: the environment.</summary>
[Alias("controlplane.IPiiCatalogGrain")]
public interface IPiiCatalogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Declares (or re-declares with another kind) a column, after checking on the tier's primary that some tenant schema
    /// has it and that its type can hold the kind's pseudonyms: <see cref="KeyNotFoundException"/> when no tenant table has
    /// it, <see cref="ArgumentException"/> when its type does not fit.
    /// </summary>
    [Alias("Declare")]
    Task<PiiColumn> Declare(PiiColumn column);

    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<PiiColumn>> List();

    /// <summary>Columns of the tier's tenant tables that look personal and are not declared yet.</summary>
    [Alias("Suggest")]
    Task<IReadOnlyList<PiiSuggestionView>> Suggest(string tier);
}

[GenerateSerializer, Alias("controlplane.PiiCatalogState")]
public sealed class PiiCatalogState
{
    [Id(0)] public List<PiiColumn> Columns { get; set; } = [];
}

/// <summary>Keeps the declared columns; checks each declaration against the tier's catalog before it is written.</summary>
public sealed class PiiCatalogGrain(
    [PersistentState("piicatalog", FleetKeys.Storage)] IPersistentState<PiiCatalogState> state) : Grain, IPiiCatalogGrain
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    public async Task<PiiColumn> Declare(PiiColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var found = (await ColumnsAsync(column.Tier)).Where(c => c.Table == column.Table && c.Column == column.Column).ToList();
        if (found.Count == 0)
        {
            throw new KeyNotFoundException(
                $"column {column.Table}.{column.Column} not found in any tenant schema (tenant_*) on tier '{column.Tier}'; expected an existing table and column.");
        }
        foreach (var c in found)
        {
            if (PiiPolicy.Incompatible(column.Kind, c.DataType) is { } why)
                throw new ArgumentException($"column {c.Schema}.{c.Table}.{c.Column} cannot be declared as {column.Kind}: {why}.");
        }
        state.State.Columns.RemoveAll(c => c.Key == column.Key);
        state.State.Columns.Add(column);
        state.State.Columns.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        await state.WriteStateAsync();
        return column;
    }

    public Task<IReadOnlyList<PiiColumn>> List() => Task.FromResult<IReadOnlyList<PiiColumn>>([.. state.State.Columns]);

    public async Task<IReadOnlyList<PiiSuggestionView>> Suggest(string tier) =>
        PiiPolicy.Suggest(tier, await ColumnsAsync(tier), state.State.Columns);

    private async Task<IReadOnlyList<TenantColumn>> ColumnsAsync(string tier)
    {
        using var cts = new CancellationTokenSource(ReadTimeout);
        return await TenantAnonymiser.ColumnsAsync(await TenantTiers.PrimaryAsync(GrainFactory, this.GetPrimaryKeyString(), tier), cts.Token);
    }
}
