using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;

namespace ControlPlane.Silo.Board;

/// <summary>An answer the board gives instead of data: a status code and a message naming what was wrong.</summary>
internal sealed class BoardProblem(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Gathers what each board page shows from the grains (the same grains the gRPC services ask), and hands it to the
/// pure <see cref="BoardViews"/>. Tiers are read one after another: four to a handful of in-memory grain calls.
/// </summary>
internal sealed class BoardData(IClusterClient cluster, TimeProvider clock)
{
    public const int MaxDecisions = 200;

    /// <summary>The environment's tiers; 404 for an environment without any (no grain state is made for a typo).</summary>
    public async Task<IReadOnlyList<string>> TiersAsync(string env)
    {
        var tiers = await cluster.GetGrain<IFleetGrain>(env).ListTiers();
        if (tiers.Count == 0) throw new BoardProblem(StatusCodes.Status404NotFound, $"environment '{env}' not found: it has no tiers.");
        return tiers;
    }

    public async Task<FleetView> FleetAsync(string env)
    {
        var snapshots = new List<TierSnapshot>();
        foreach (var tier in await TiersAsync(env))
        {
            if (await Tier(env, tier).GetSnapshot() is { } snapshot) snapshots.Add(snapshot);
        }
        return BoardViews.Fleet(env, snapshots);
    }

    public Task<TierSnapshot?> SnapshotAsync(string env, string tier) => Tier(env, tier).GetSnapshot();

    /// <summary>A runbook rendered from the tier's live state, the same text GetRunbook and cpctl runbook answer.</summary>
    public async Task<RunbookView> RunbookAsync(string env, string kind, string tier, Runbooks.RunbookRenderer renderer)
    {
        if (!(await TiersAsync(env)).Contains(tier, StringComparer.Ordinal))
            throw new BoardProblem(StatusCodes.Status404NotFound, $"tier '{tier}' not found in environment '{env}'.");
        try
        {
            var runbook = await renderer.RenderAsync(env, kind, tier);
            return new RunbookView(runbook.Kind, runbook.Tier, runbook.Title, runbook.Markdown, runbook.RenderedAt);
        }
        catch (InvalidOperationException e)
        {
            throw new BoardProblem(StatusCodes.Status503ServiceUnavailable, e.Message);
        }
    }

    /// <summary>Coverage measured now, by the same gatherer as GetCoverage and cpctl coverage.</summary>
    public async Task<CoverageView> CoverageAsync(string env, Coverage.CoverageGatherer gatherer)
    {
        await TiersAsync(env);
        return BoardCoverage.View(await gatherer.EvaluateAsync(env));
    }

    public async Task<IReadOnlyList<PoolView>> PoolsAsync(string env)
    {
        var pools = new List<PoolView>();
        foreach (var tier in await TiersAsync(env))
        {
            pools.Add(BoardViews.Pool(await cluster.GetGrain<IPoolGrain>(FleetKeys.Tier(env, tier)).GetBudget()));
        }
        return pools;
    }

    public async Task<IReadOnlyList<BackupView>> BackupsAsync(string env)
    {
        var views = new List<BackupView>();
        foreach (var tier in await TiersAsync(env))
        {
            var grain = cluster.GetGrain<IBackupGrain>(FleetKeys.Tier(env, tier));
            var snapshot = await Tier(env, tier).GetSnapshot();
            views.Add(BoardViews.Backup(
                tier, await grain.GetPolicy(), await grain.ListBackups(), await grain.ListDrills(20), await grain.GetArchiveStatus(),
                snapshot?.BackupAlert ?? "", clock.GetUtcNow()));
        }
        return views;
    }

    public async Task<IReadOnlyList<AlertView>> AlertsAsync(string env)
    {
        await TiersAsync(env);
        var grain = cluster.GetGrain<IAlertGrain>(env);
        var silences = await grain.GetSilences();
        var now = clock.GetUtcNow();
        return BoardViews.Alerts((await grain.GetActive()).Select(a => (a, AlertPolicy.Silenced(a.Key, silences, now))));
    }

    /// <summary>The newest alert event version of the environment (the board's feed polls for newer ones).</summary>
    public async Task<long> AlertVersionAsync(string env) =>
        (await cluster.GetGrain<IAlertGrain>(env).GetEvents(long.MaxValue, 1)).LastVersion;

    public async Task<IReadOnlyList<DecisionView>> DecisionsAsync(string env, int limit)
    {
        var all = new List<(string, ControlPlane.Grains.Failover.DecisionRecord)>();
        foreach (var tier in await TiersAsync(env))
        {
            all.AddRange((await Tier(env, tier).ListDecisions(limit)).Select(d => (tier, d)));
        }
        return BoardViews.Decisions(all, limit);
    }

    private ITierGrain Tier(string env, string tier) => cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier));
}
