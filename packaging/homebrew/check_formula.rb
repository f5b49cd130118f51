# check_formula.rb: a check of the formula release.sh writes, without
# Homebrew. It loads FORMULA against a small stand-in for Homebrew's Formula
# DSL on this machine's platform, checks its metadata, fetches the archive
# its url names (file:// URLs only: write the formula with
# BASE_URL=file://DIST), checks the sha256, unpacks it, runs the install
# method into a temporary prefix and then the test block.
#
#   ruby packaging/homebrew/check_formula.rb dist/ccotel.rb
#
# The stand-in mirrors what the formula uses (on_macos, on_linux, on_arm,
# on_intel, bin.install, shell_output, assert_match, bin, version,
# testpath); it is not Homebrew, so before publishing also run
# `brew audit --strict ccotel` and `brew test ccotel` on a Mac.
require "digest"
require "fileutils"
require "open3"
require "pathname"
require "time"
require "tmpdir"

class Formula
  class << self
    def meta
      @meta ||= { deps: [] }
    end

    %i[desc homepage url sha256 license version].each do |m|
      define_method(m) { |v| meta[m] = v }
    end

    def on_macos
      yield if RUBY_PLATFORM.include?("darwin")
    end

    def on_linux
      yield if RUBY_PLATFORM.include?("linux")
    end

    def on_arm
      yield if RUBY_PLATFORM.match?(/arm64|aarch64/)
    end

    def on_intel
      yield if RUBY_PLATFORM.match?(/x86_64|amd64/)
    end

    def test(&block)
      meta[:test] = block
    end
  end

  attr_accessor :prefix, :testpath

  def name
    self.class.name.downcase
  end

  def bin
    prefix/"bin"
  end

  def version
    self.class.meta[:version]
  end

  def system(*args)
    puts "==> #{args.join(" ")}"
    Kernel.system(*args) or raise "failed: #{args.join(" ")}"
  end

  def shell_output(cmd, status = 0)
    out, st = Open3.capture2(cmd)
    raise "#{cmd}: exit #{st.exitstatus}, want #{status}\n#{out}" if st.exitstatus != status

    out
  end

  def assert_match(expected, actual)
    ok = expected.is_a?(Regexp) ? expected.match?(actual) : actual.include?(expected)
    raise "assert_match: #{expected.inspect} not in:\n#{actual[0, 2000]}" unless ok
  end
end

class Pathname
  # bin.install: move files into this directory, as Homebrew does.
  def install(*files)
    mkpath
    files.each { |f| FileUtils.mv(f, self/File.basename(f)) }
  end
end

formula = File.expand_path(ARGV.fetch(0) { abort "usage: ruby check_formula.rb FORMULA" })
load formula
meta = Ccotel.meta

problems = []
problems << "desc too long (#{meta[:desc].to_s.length} > 80)" if meta[:desc].to_s.length > 80
problems << "desc must not start with the name" if meta[:desc].to_s.downcase.start_with?("ccotel")
problems << "no version" unless meta[:version].to_s.match?(/\A\d/)
problems << "license is not Apache-2.0" unless meta[:license] == "Apache-2.0"
problems << "no url for this platform (#{RUBY_PLATFORM})" unless meta[:url]
problems << "sha256 is not 64 hex digits" unless meta[:sha256].to_s.match?(/\A\h{64}\z/)
problems << "no test block" unless meta[:test]
abort "#{formula}: #{problems.join("; ")}" unless problems.empty?
url = meta[:url]
abort "#{formula}: #{url} is not a file:// URL; write the formula with BASE_URL=file://..." unless url.start_with?("file://")
archive = url.delete_prefix("file://")
got = Digest::SHA256.file(archive).hexdigest
abort "#{formula}: #{archive} has sha256 #{got}, the formula says #{meta[:sha256]}" if got != meta[:sha256]

f = Ccotel.new
Dir.mktmpdir("ccotel-formula") do |tmp|
  f.prefix = Pathname(tmp)/"prefix"
  src = Pathname(tmp)/"src"
  src.mkpath
  Dir.chdir(src) { f.system "tar", "xzf", archive }
  top = src.children
  abort "#{archive}: not one top-level directory: #{top}" unless top.size == 1 && top[0].directory?
  Dir.chdir(top[0]) { f.install }
  raise "install left no #{f.bin/"ccotel"}" unless (f.bin/"ccotel").executable?

  f.testpath = Pathname(tmp)/"test"
  f.testpath.mkpath
  home = ENV["HOME"]
  ENV["HOME"] = f.testpath.to_s
  begin
    Dir.chdir(f.testpath) { f.instance_eval(&meta[:test]) }
  ensure
    ENV["HOME"] = home
  end
  puts f.caveats
end
puts "#{File.basename(formula)}: metadata, sha256, install and test block OK for #{url}"
