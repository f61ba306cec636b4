using ControlPlane.Silo.Hosting;

return await ControlPlaneHost.RunAsync(args);
