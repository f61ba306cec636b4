using System.Runtime.InteropServices;
using ControlPlane.Bench;

// Ctrl-C and SIGTERM cancel the run instead of killing the process: a benchmark that started a silo must stop it
// (and the PostgreSQL instances it started) on the way out. A second signal is not intercepted.
using var interrupted = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    if (interrupted.IsCancellationRequested) return;
    context.Cancel = true;
    interrupted.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

return await BenchApp.RunAsync(args, Console.Out, Console.Error, interrupted.Token);
