using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// Delivers alert events to an Alertmanager-style webhook, off the grain's turn, in order, with retries (doubling
/// backoff from half a second; <see cref="MonitoringOptions.WebhookAttempts"/> attempts). Events are persisted by the
/// alert grain before they are handed here, so a delivery given up is still in the history and on the watch stream.
/// </summary>
public sealed class AlertWebhookSink : IDisposable
{
    private readonly Channel<(string Url, string Environment, IReadOnlyList<AlertEvent> Events)> _queue =
        Channel.CreateBounded<(string, string, IReadOnlyList<AlertEvent>)>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger<AlertWebhookSink> _logger;
    private readonly int _attempts;
    private readonly Task _loop;

    public AlertWebhookSink(IOptions<MonitoringOptions> options, ILogger<AlertWebhookSink> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        _attempts = options.Value.WebhookAttempts;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Deliveries that reached the receiver with a 2xx answer, since start (for tests and the bench).</summary>
    public long Delivered { get; private set; }

    public void Enqueue(string url, string environment, IReadOnlyList<AlertEvent> events)
    {
        if (url.Length == 0 || events.Count == 0) return;
        _queue.Writer.TryWrite((url, environment, events));
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var (url, env, events) in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                await DeliverAsync(url, env, events, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(string url, string environment, IReadOnlyList<AlertEvent> events, CancellationToken ct)
    {
        var body = AlertmanagerPayload.Build(environment, events);
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            try
            {
                using var content = new StringContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _http.PostAsync(new Uri(url), content, ct);
                if (response.IsSuccessStatusCode)
                {
                    Delivered++;
                    return;
                }
                _logger.LogWarning("Alert webhook of {Environment} answered {Status} (attempt {Attempt}/{Attempts})", environment, (int)response.StatusCode, attempt, _attempts);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                _logger.LogWarning("Alert webhook of {Environment} failed: {Error} (attempt {Attempt}/{Attempts})", environment, ex.Message, attempt, _attempts);
            }
            if (attempt < _attempts) await Task.Delay(delay, ct);
            delay *= 2;
        }
        _logger.LogError("Alert webhook of {Environment} gave up {Count} event(s) after {Attempts} attempts; they stay in the alert history", environment, events.Count, _attempts);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
        _http.Dispose();
    }
}
