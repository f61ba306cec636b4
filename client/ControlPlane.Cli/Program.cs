using ControlPlane.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Let the running command finish cleanly (a watch exits 0); a second Ctrl-C still kills us.
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupted.Cancel();
    }
};

return await CpctlApp.RunAsync(args, Console.Out, Console.Error, interrupted.Token);
