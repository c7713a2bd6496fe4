// Types for the uPlot build the gateway serves at /ui/vendor/uplot.esm.js (from node_modules/uplot).
import uPlot from 'uplot';
export default uPlot;
