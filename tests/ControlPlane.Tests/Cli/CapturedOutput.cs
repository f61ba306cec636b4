using System.Text;

namespace ControlPlane.Tests.Cli;

/// <summary>A thread-safe writer that lets a test wait until a number of lines has been written.</summary>
internal sealed class CapturedOutput : TextWriter
{
    private readonly Lock gate = new();
    private readonly StringBuilder text = new();
    private readonly List<(int Lines, TaskCompletionSource Reached)> waiters = [];

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (gate)
        {
            text.Append(value);
            if (value != '\n')
            {
                return;
            }

            var lines = Lines.Count;
            foreach (var waiter in waiters.Where(w => lines >= w.Lines))
            {
                waiter.Reached.TrySetResult();
            }
        }
    }

    public override string ToString()
    {
        lock (gate)
        {
            return text.ToString();
        }
    }

    public IReadOnlyList<string> Lines => ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Completes once <paramref name="count"/> lines are written (or fails after a generous timeout).</summary>
    public Task WaitForLinesAsync(int count)
    {
        lock (gate)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Lines.Count >= count)
            {
                reached.SetResult();
            }
            else
            {
                waiters.Add((count, reached));
            }

            return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
