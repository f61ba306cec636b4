using System.Globalization;
using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Changes;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Runbooks;

/// <summary>A rendered runbook.</summary>
public sealed record RenderedRunbook(string Environment, string Tier, string Kind, string Title, string Markdown, DateTimeOffset RenderedAt);

/// <summary>
/// Renders a runbook from the tier's live state: reads the tier (spec, snapshot, HA settings), its backups, pool,
/// tenants and changes from their grains into <see cref="RunbookFacts"/>, then fills the kind's template. Reads only.
/// Callable directly by anything in the silo (the gRPC service, the status board).
/// </summary>
public sealed class RunbookRenderer
{
    private const int ChangesShown = 10;
    private readonly IClusterClient _cluster;
    private readonly string _defaultEnvironment;

    internal RunbookRenderer(IClusterClient cluster, IOptions<ControlPlaneOptions> options)
    {
        _cluster = cluster;
        _defaultEnvironment = options.Value.Environment;
    }

    /// <summary>Renders <paramref name="kind"/> for a registered tier. ArgumentException for an unknown kind;
    /// InvalidOperationException when the tier has not reported yet.</summary>
    public async Task<RenderedRunbook> RenderAsync(string environment, string kind, string tier)
    {
        if (!RunbookKinds.IsKnown(kind)) throw new ArgumentException($"kind '{kind}' is not a runbook; expected one of {RunbookKinds.Expected}.", nameof(kind));
        var facts = await GatherAsync(environment, tier);
        var markdown = RunbookTemplates.Render(kind, facts);
        return new RenderedRunbook(environment, tier, kind, RunbookTemplates.Title(markdown), markdown, DateTimeOffset.UtcNow);
    }

    private async Task<RunbookFacts> GatherAsync(string env, string tier)
    {
        var key = FleetKeys.Tier(env, tier);
        var tierGrain = _cluster.GetGrain<ITierGrain>(key);
        var spec = await tierGrain.GetSpec() ?? throw new InvalidOperationException($"tier '{tier}' is not registered yet");
        var snapshot = await tierGrain.GetSnapshot() ?? throw new InvalidOperationException($"tier '{tier}' has not reported yet");
        var settings = await tierGrain.GetSettings();
        var statuses = snapshot.Replicas.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var replicas = spec.Replicas.Select(r => Replica(r, statuses.GetValueOrDefault(r.Name), r.Name == snapshot.Primary)).ToList();
        var primary = replicas.FirstOrDefault(r => r.Role == "primary") ?? replicas[0];

        var backups = _cluster.GetGrain<IBackupGrain>(key);
        var policy = await backups.GetPolicy();
        var newest = (await backups.ListBackups()).Where(b => b.State == BackupState.Succeeded && b.FinishedAt is not null).MaxBy(b => b.FinishedAt);
        var archive = await backups.GetArchiveStatus();
        var budget = await _cluster.GetGrain<IPoolGrain>(key).GetBudget();
        var tenants = await TenantsAsync(env, tier);
        var changes = await ChangesAsync(env, key);

        return new RunbookFacts(env, tier, env == _defaultEnvironment ? "cpctl" : $"cpctl --environment {env}", snapshot.Term,
            snapshot.Health.ToString().ToLowerInvariant(), snapshot.Paused, primary, replicas.Where(r => r != primary).ToList(),
            new RunbookHa(settings.AutoFailover, settings.FailureThreshold, (int)settings.ProbeInterval.TotalMilliseconds,
                settings.SynchronousMode.ToString().ToLowerInvariant(), settings.MaxLagOnFailoverBytes, settings.MaxLagOnFailoverSeconds),
            new RunbookBackups(policy.Schedule, policy.DrillSchedule, Duration(policy.RpoTarget), Duration(policy.RtoTarget), policy.ArchiveWal,
                policy.Repository.Length > 0 ? policy.Repository : "(the silo's default repository)", newest?.Id ?? "", newest?.FinishedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "",
                Duration(archive.Rpo), archive.Streaming),
            new RunbookPool(budget.Capacity, budget.Settings.LeakSuspectSeconds, budget.Settings.TerminateIdleInTransactionSeconds, budget.Settings.DefaultTtlSeconds,
                budget.Tenants.Select(t => new RunbookPoolTenant(t.Tenant, t.Granted, t.InUse, t.Leases, t.LeakSuspects)).ToList()),
            tenants, changes, DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture));
    }

    private static RunbookReplica Replica(ReplicaSpec spec, ReplicaStatus? status, bool primary) =>
        new(spec.Name, spec.Host, spec.Port, primary ? "primary" : "standby", status?.Healthy ?? false, status?.LagBytes ?? 0,
            spec.DataDirectory ?? "(not on this host: managed over SQL)", spec.Database, spec.User, spec.PasswordFile, Psql(spec));

    /// <summary>The password is read from its file by the shell at run time; the runbook never contains it.</summary>
    public static string Psql(ReplicaSpec spec) =>
        $"PGPASSWORD=\"$(cat {spec.PasswordFile})\" psql \"host={spec.Host} port={spec.Port.ToString(CultureInfo.InvariantCulture)} dbname={spec.Database} user={spec.User} sslmode=require\"";

    private async Task<IReadOnlyList<RunbookTenant>> TenantsAsync(string env, string tier)
    {
        var index = await _cluster.GetGrain<ITenantRegistryGrain>(env).ListIndex();
        var views = await Task.WhenAll(index.Where(e => e.Lifecycle is TenantLifecycle.Active or TenantLifecycle.Suspended)
            .Select(e => _cluster.GetGrain<ITenantGrain>(TenantKeys.Of(env, e.Record.Name)).Get()));
        return views.OfType<TenantView>()
            .SelectMany(v => v.Placements.Where(p => p.Tier == tier).Select(p => new RunbookTenant(v.Name, p.Kind.ToString().ToLowerInvariant(), p.Role)))
            .OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    private async Task<IReadOnlyList<RunbookChange>> ChangesAsync(string env, string key)
    {
        var ids = await _cluster.GetGrain<IChangeLedgerGrain>(key).List();
        var views = await Task.WhenAll(ids.TakeLast(ChangesShown).Select(id => _cluster.GetGrain<IChangeGrain>(ChangeKeys.Of(env, id)).Get()));
        return views.OfType<ChangeView>().Reverse()
            .Select(v => new RunbookChange(v.Id, v.Phase.ToString().ToLowerInvariant(), v.Description)).ToList();
    }

    private static string Duration(TimeSpan span) => span.TotalSeconds < 1
        ? $"{span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}ms"
        : span.TotalMinutes < 1 ? $"{span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s"
        : span.TotalHours < 1 ? $"{span.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)}m"
        : $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)}h";
}
