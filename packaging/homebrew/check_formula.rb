# check_formula.rb: a check of ccotel.rb without Homebrew. It loads the
# formula against a small stand-in for Homebrew's Formula DSL, checks its
# metadata, runs its install method (a real `go build` of SOURCE_DIR into a
# temporary prefix) and then its test block against the built binary.
#
#   ruby packaging/homebrew/check_formula.rb SOURCE_DIR
#
# The stand-in mirrors what the formula uses (std_go_args, system,
# shell_output, assert_match, bin, version, time, testpath); it is not
# Homebrew, so before publishing also run `brew audit --strict --new ccotel`
# and `brew install --build-from-source ccotel && brew test ccotel` in the tap.
# CHECK_FORMULA_NO_TRIMPATH=1 leaves -trimpath out of std_go_args, so a test
# run shares `go test`'s build cache.
require "open3"
require "pathname"
require "time"
require "tmpdir"

class Formula
  class << self
    def meta
      @meta ||= { deps: [] }
    end

    %i[desc homepage url sha256 license].each do |m|
      define_method(m) { |v| meta[m] = v }
    end

    def head(url, **opts)
      meta[:head] = [url, opts]
    end

    def depends_on(dep)
      meta[:deps] << dep
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
    self.class.meta[:url][%r{/v?(\d+(?:\.\d+)*)\.tar\.gz\z}, 1] or raise "no version in the url"
  end

  def time
    Time.utc(2026, 1, 2, 3, 4, 5)
  end

  def std_go_args(output: bin/name, ldflags: nil)
    args = ENV["CHECK_FORMULA_NO_TRIMPATH"] == "1" ? [] : ["-trimpath"]
    args << "-o=#{output}"
    args << "-ldflags=#{Array(ldflags).join(" ")}" if ldflags
    args
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

src = File.expand_path(ARGV.fetch(0) { abort "usage: ruby check_formula.rb SOURCE_DIR" })
load File.join(__dir__, "ccotel.rb")
meta = Ccotel.meta

problems = []
problems << "desc too long (#{meta[:desc].length} > 80)" if meta[:desc].to_s.length > 80
problems << "desc must not start with the name" if meta[:desc].to_s.downcase.start_with?("ccotel")
problems << "url is not a github.com/ccotel/ccotel tarball" unless meta[:url].to_s.start_with?("https://github.com/ccotel/ccotel/archive/")
problems << "sha256 is not 64 hex digits" unless meta[:sha256].to_s.match?(/\A\h{64}\z/)
problems << "head is not the git repository" unless meta.dig(:head, 0) == "https://github.com/ccotel/ccotel.git"
problems << "go must be a build dependency" unless meta[:deps].include?({ "go" => :build })
problems << "no test block" unless meta[:test]
abort "ccotel.rb: #{problems.join("; ")}" unless problems.empty?

f = Ccotel.new
Dir.mktmpdir("ccotel-formula") do |tmp|
  f.prefix = Pathname(tmp)/"prefix"
  Dir.chdir(src) { f.install }
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
puts "ccotel.rb: metadata, install and test block OK"
