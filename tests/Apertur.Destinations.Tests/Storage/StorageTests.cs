using Apertur.Destinations.Storage;

namespace Apertur.Destinations.Tests.Storage;

/// <summary>What the storage adapters share: where the connection test's probe goes, and how images are cut in parts.</summary>
public sealed class StorageTests
{
    [Theory]
    [InlineData("uploads/{session_id}/{image_index}.{ext}", "uploads/.apertur-connection-test")]
    [InlineData("{session_id}/{image_index}.{ext}", ".apertur-connection-test")]
    [InlineData("a/b/c-{image_id}", "a/b/.apertur-connection-test")]
    [InlineData("/root/{date:yyyy/MM}/x", "root/.apertur-connection-test")]
    [InlineData("flat-{image_id}.{ext}", ".apertur-connection-test")]
    public void PathFor_Template_BesideTheFixedFolders(string template, string path) => StorageProbe.PathFor(template).ShouldBe(path);

    [Theory]
    [InlineData(0, new long[0])]
    [InlineData(1, new long[] { 1 })]
    [InlineData(8 * 1024 * 1024, new long[] { 8 * 1024 * 1024 })]
    [InlineData(20 * 1024 * 1024, new long[] { 8 * 1024 * 1024, 8 * 1024 * 1024, 4 * 1024 * 1024 })]
    [InlineData(16 * 1024 * 1024 + 1, new long[] { 8 * 1024 * 1024, 8 * 1024 * 1024, 1 })]
    public void Parts_AnySize_AllButTheLastArePartSize(long size, long[] parts)
    {
        StorageTuning.Default.Parts(size).ShouldBe(parts);
        StorageTuning.Default.Parts(size).Sum().ShouldBe(size);
    }

    [Theory]
    [InlineData(8 * 1024 * 1024, false)]
    [InlineData(8 * 1024 * 1024 + 1, true)]
    public void IsMultipart_AboveTheSinglePutLimit(long size, bool multipart) => StorageTuning.Default.IsMultipart(size).ShouldBe(multipart);
}
