using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// The alerts of one environment. Readings come in from the sources; <see cref="AlertPolicy"/> decides; a decision
/// that fired or resolved something is persisted first and delivered only once the catalog holds it (metrics, the
/// webhook; watchers read the persisted history). A write that fails keeps the events in memory, undelivered, until
/// a later write succeeds.
/// </summary>
public sealed class AlertGrain(
    [PersistentState("alerts", FleetKeys.Storage)] IPersistentState<AlertState> state,
    IOptions<MonitoringOptions> options,
    AlertMetrics metrics,
    ReadingMetrics exported,
    AlertWebhookSink webhook,
    ILogger<AlertGrain> logger) : Grain, IAlertGrain
{
    public const int HistoryKept = 1000;
    private const int PageLimit = 500;
    private long _delivered = -1;

    private string Env => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _delivered = state.State.LastVersion;
        metrics.Record(Env, state.State.Active, []);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.Forget(Env);
        return Task.CompletedTask;
    }

    public async Task Report(IReadOnlyList<MetricObservation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        exported.Record(observations);
        var now = DateTimeOffset.UtcNow;
        var s = state.State;
        var before = s.Active;
        var evaluation = AlertPolicy.Evaluate(Rules(), observations, before, s.Silences, s.LastVersion, now);
        var phasesChanged = evaluation.Active.Count != before.Count
            || evaluation.Active.Zip(before).Any(p => p.First.Key != p.Second.Key || p.First.Phase != p.Second.Phase);
        s.Active = evaluation.Active.ToList();
        if (evaluation.Events.Count == 0 && !phasesChanged) return;
        s.History.AddRange(evaluation.Events);
        if (s.History.Count > HistoryKept) s.History.RemoveRange(0, s.History.Count - HistoryKept);
        s.LastVersion = evaluation.LastVersion;
        foreach (var e in evaluation.Events)
        {
            logger.LogWarning("Alert {Fingerprint} {Phase} (value {Value}){Silenced}", e.Key.Fingerprint, e.Phase, e.Value, e.Silenced ? " [silenced]" : "");
        }
        await PersistThenDeliverAsync(evaluation: true);
    }

    public Task<IReadOnlyList<AlertRule>> GetRules() => Task.FromResult(Rules());

    public async Task<AlertRule> PutRule(AlertRule rule, string principal)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var errors = AlertRuleValidation.Validate(rule);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(rule));
        state.State.Rules.RemoveAll(r => r.Name == rule.Name);
        state.State.Rules.Add(rule);
        logger.LogInformation("Alert rule {Rule} of {Environment} set by {Principal}: {Expression} for {For}", rule.Name, Env, principal, rule.Expression, rule.For);
        await PersistThenDeliverAsync();
        return rule;
    }

    public async Task<bool> DeleteRule(string name, string principal)
    {
        if (state.State.Rules.RemoveAll(r => r.Name == name) == 0) return false;
        logger.LogInformation("Alert rule {Rule} of {Environment} removed by {Principal}", name, Env, principal);
        await PersistThenDeliverAsync();
        return true;
    }

    public async Task<AlertSilence> AddSilence(IReadOnlyDictionary<string, string> matchers, DateTimeOffset starts, DateTimeOffset ends, string comment, string principal)
    {
        var now = DateTimeOffset.UtcNow;
        var silence = new AlertSilence($"s{state.State.LastSilence + 1}", new Dictionary<string, string>(matchers, StringComparer.Ordinal),
            starts == default ? now : starts, ends, comment, principal);
        var errors = AlertRuleValidation.Validate(silence, now);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(ends));
        state.State.LastSilence++;
        // Ended silences are kept a day for the record, then dropped.
        state.State.Silences.RemoveAll(x => x.Ends < now - TimeSpan.FromDays(1));
        state.State.Silences.Add(silence);
        logger.LogInformation("Silence {Silence} of {Environment} by {Principal} until {Ends}", silence.Id, Env, principal, silence.Ends);
        await PersistThenDeliverAsync();
        return silence;
    }

    public async Task<bool> ExpireSilence(string id, string principal)
    {
        var now = DateTimeOffset.UtcNow;
        var index = state.State.Silences.FindIndex(s => s.Id == id && s.Ends > now);
        if (index < 0) return false;
        state.State.Silences[index] = state.State.Silences[index] with { Ends = now };
        logger.LogInformation("Silence {Silence} of {Environment} expired by {Principal}", id, Env, principal);
        await PersistThenDeliverAsync();
        return true;
    }

    public Task<IReadOnlyList<AlertSilence>> GetSilences() => Task.FromResult<IReadOnlyList<AlertSilence>>(state.State.Silences.ToList());

    public Task<IReadOnlyList<ActiveAlert>> GetActive() => Task.FromResult<IReadOnlyList<ActiveAlert>>(state.State.Active.ToList());

    public Task<AlertEventPage> GetEvents(long afterVersion, int limit)
    {
        // Only what the catalog holds is told: an event still waiting for its write is not yet history.
        var persisted = state.State.History.Where(e => e.Version > afterVersion && e.Version <= _delivered)
            .Take(Math.Clamp(limit, 1, PageLimit)).ToList();
        var oldest = state.State.History.Count > 0 ? state.State.History[0].Version : state.State.LastVersion + 1;
        return Task.FromResult(new AlertEventPage(persisted, Math.Max(0, _delivered), oldest));
    }

    public async Task SetWebhook(string url, string principal)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Length > 0 && AlertRuleValidation.HttpUrlProblem(url) is { } problem) throw new ArgumentException("url " + problem, nameof(url));
        state.State.WebhookUrl = url;
        logger.LogInformation("Alert webhook of {Environment} {Change} by {Principal}", Env, url.Length == 0 ? "reset" : "set", principal);
        await PersistThenDeliverAsync();
    }

    public Task<string> GetWebhook() => Task.FromResult(WebhookUrl);

    private string WebhookUrl => state.State.WebhookUrl.Length > 0 ? state.State.WebhookUrl : options.Value.WebhookUrl;

    /// <summary>The environment's rules over the defaults: same name replaces.</summary>
    private IReadOnlyList<AlertRule> Rules()
    {
        var own = state.State.Rules.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        return [.. DefaultAlertRules.All.Where(r => !own.Contains(r.Name)), .. state.State.Rules];
    }

    /// <summary>Writes the state, then delivers what the catalog now holds. A command's failed write reaches its caller;
    /// an evaluation's is logged and retried with the next one.</summary>
    private async Task PersistThenDeliverAsync(bool evaluation = false)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (evaluation && ex is not OutOfMemoryException)
        {
            logger.LogWarning(ex, "Alerts of {Environment} not persisted; delivery waits for the next write", Env);
            return;
        }
        var undelivered = state.State.History.Where(e => e.Version > _delivered).ToList();
        _delivered = state.State.LastVersion;
        metrics.Record(Env, state.State.Active, undelivered);
        webhook.Enqueue(WebhookUrl, Env, undelivered.Where(e => !e.Silenced).ToList());
    }
}
