using System.Text;
using Apertur.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// What one server instance wrote: the start's console banner (<see cref="StartupConsole"/>) and every log line, so a test
/// can check what is printed once and what never reaches a log. One per instance: a restart has its own.
/// </summary>
public sealed class CapturedOutput : ILoggerProvider
{
    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();

    public StartupConsole Console => new(new Writer(this));

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    private void Append(string value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Writer(CapturedOutput owner) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => owner.Append(value.ToString());
        public override void Write(string? value) => owner.Append(value ?? "");
        public override void WriteLine(string? value) => owner.Append((value ?? "") + Environment.NewLine);
        public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
        {
            owner.Append(buffer.ToString() + Environment.NewLine);
            return Task.CompletedTask;
        }
    }

    private sealed class Logger(CapturedOutput owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Append($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}{Environment.NewLine}");
    }
}
