namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>The sample images (copied from the shared fixtures into the project so a clone has them).</summary>
public static class Fixture
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));
}
