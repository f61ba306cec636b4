using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>Keeps every log line a silo writes (Debug and up, exceptions included), so tests can grep them for secrets.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public void AttachTo(WebApplicationBuilder builder)
    {
        builder.Logging.AddProvider(this);
        // Provider-specific rule: this sink sees Debug from every category, whatever the console filters say.
        builder.Logging.AddFilter<LogSink>(null, LogLevel.Debug);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    // The host disposes its providers at shutdown; the lines must survive silo restarts.
    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
    }
}
